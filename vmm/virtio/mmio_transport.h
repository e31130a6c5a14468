// The virtio-mmio transport, version 2 ("modern", virtio 1.x, 4.2.2): the
// 4 KiB register window of one device on the MMIO bus. It decodes register
// accesses from vCPU threads into the VirtioDevice under the device's mutex.
//
// Queue doorbells: a write to QueueNotify only signals that queue's eventfd,
// which the I/O thread (io::EventLoop) watches and answers by calling
// VirtioDevice::HandleQueueNotify(); the vCPU returns at once. Given an
// IoEventRegistrar (KVM_IOEVENTFD), the same eventfds are registered for
// 4-byte writes of the queue index at base + 0x50, so KVM signals them without
// a vCPU exit at all; the register path stays as the fallback.
//
// Interrupts: the device sets InterruptStatus and triggers its IrqLine (an
// irqfd, an edge); the guest reads InterruptStatus and acknowledges.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bus/io_handler.h"
#include "bus/irq.h"
#include "io/event_fd.h"
#include "io/event_loop.h"
#include "virtio/virtio_device.h"

namespace hull::vmm::virtio {

inline constexpr uint64_t kMmioWindowSize = 0x1000;

class MmioTransport : public IoHandler {
 public:
  // Attaches `device` to guest RAM and `irq`, and puts its doorbells into
  // `loop`. `ioevents` may be null. The transport keeps the loop and the
  // interrupt line alive as long as it and its device live (the MMIO bus may
  // hold it longer than whoever built it). Throws io::IoError.
  MmioTransport(std::shared_ptr<VirtioDevice> device, const GuestMemory& memory, std::shared_ptr<IrqLine> irq,
                std::shared_ptr<io::EventLoop> loop, uint64_t mmio_base, IoEventRegistrar* ioevents);
  ~MmioTransport() override;
  MmioTransport(const MmioTransport&) = delete;
  MmioTransport& operator=(const MmioTransport&) = delete;

  void Read(uint64_t offset, std::span<uint8_t> data) override;
  void Write(uint64_t offset, std::span<const uint8_t> data) override;

  VirtioDevice& device() { return *device_; }
  uint64_t mmio_base() const { return mmio_base_; }

  // The guest kernel argument that announces a device at `base` with `irq`:
  // "virtio_mmio.device=4K@0xd0001000:5".
  static std::string KernelCommandLineArg(uint64_t base, uint32_t irq);

 private:
  uint32_t ReadRegister(uint64_t offset);
  void WriteRegister(uint64_t offset, uint32_t value);
  Queue* SelectedQueue();

  // Declared before device_: destroyed after it, as the device uses both.
  std::shared_ptr<io::EventLoop> loop_;
  std::shared_ptr<IrqLine> irq_;
  std::shared_ptr<VirtioDevice> device_;
  uint64_t mmio_base_;
  std::vector<std::unique_ptr<io::EventFd>> doorbells_;
  // Selector registers (under the device mutex).
  uint32_t device_features_select_ = 0;
  uint32_t driver_features_select_ = 0;
  uint32_t queue_select_ = 0;
};

}  // namespace hull::vmm::virtio
