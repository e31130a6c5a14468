// The seam between the virtio devices and whatever injects interrupts and
// delivers doorbells (KVM on x86-64 and arm64; fakes in unit tests). The
// devices know nothing about KVM: the VM builder hands each virtio-mmio
// transport an IrqLine and, optionally, an IoEventRegistrar.
//
// Interrupts: virtio-mmio raises one interrupt line per device. It is
// edge-style ("pulse"): the transport sets a bit in InterruptStatus and calls
// Trigger(); the guest reads InterruptStatus and writes InterruptACK. With KVM
// this is an irqfd (KVM_IRQFD on an eventfd, GSI = the device's IRQ): Trigger()
// writes 1 to the eventfd and needs no vCPU exit. Trigger() may be called from
// any thread (the I/O thread, a blk worker completing) and must not block.
//
// Queue notifications ("doorbells"): the driver writes the queue index to the
// QueueNotify register (offset 0x50 of the device window). Two ways it arrives:
//  1. always: the write reaches VirtioMmioTransport::Write() on the vCPU thread
//     through the MMIO bus; the transport only signals the queue's eventfd, so
//     the vCPU thread returns at once and the I/O thread does the work;
//  2. faster, when an IoEventRegistrar is given: the transport registers each
//     queue's eventfd for a 4-byte write of the queue index at
//     mmio_base + 0x50 (KVM_IOEVENTFD with KVM_IOEVENTFD_FLAG_DATAMATCH), so
//     KVM signals the eventfd in the kernel and the vCPU never exits to user
//     space. Path 1 stays as a fallback and both end in the same eventfd.
#pragma once

#include <cstdint>
#include <stdexcept>

namespace hull::vmm {

// An interrupt line into the guest. Thread-safe, non-blocking.
class IrqLine {
 public:
  virtual ~IrqLine() = default;
  virtual void Trigger() = 0;
};

class IoEventError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Registers "a guest write of `length` bytes equal to `datamatch` at guest
// physical MMIO `address` signals `eventfd`". The registrar does not own the
// eventfd; the caller unregisters before closing it. Throws IoEventError.
class IoEventRegistrar {
 public:
  virtual ~IoEventRegistrar() = default;
  virtual void Register(uint64_t address, uint32_t length, uint64_t datamatch, int eventfd) = 0;
  virtual void Unregister(uint64_t address, uint32_t length, uint64_t datamatch, int eventfd) = 0;
};

}  // namespace hull::vmm
