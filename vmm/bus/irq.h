// How devices raise interrupts and receive doorbells without knowing KVM.
// The VMM hands each device an IrqLine (backed by a KVM irqfd on x86 and
// arm64) and, for fast queue notifications, an IoEventRegistrar (KVM
// ioeventfd); unit tests pass fakes.
#pragma once

#include <cstdint>
#include <optional>

namespace hull::vmm {

// One interrupt line of a device. Trigger() is an edge: safe to call from any
// thread, never blocks.
class IrqLine {
 public:
  virtual ~IrqLine() = default;
  virtual void Trigger() = 0;
};

// Lets a device have guest writes of `length` bytes to the MMIO `address`
// (optionally only those writing `datamatch`) signal `eventfd` inside the
// kernel instead of exiting to a vCPU thread. The device owns the eventfd and
// must keep it open while the VM runs.
class IoEventRegistrar {
 public:
  virtual ~IoEventRegistrar() = default;
  virtual void RegisterIoEvent(uint64_t address, uint32_t length, std::optional<uint64_t> datamatch,
                               int eventfd) = 0;
};

}  // namespace hull::vmm
