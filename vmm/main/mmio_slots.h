// Hands out virtio-mmio slots: a 4 KiB window (from the arch's MMIO base)
// and an interrupt line each, registers the device on the MMIO bus and
// announces it to the guest through the arch back end (x86: a
// `virtio_mmio.device=4K@0x...:IRQ` kernel argument). Use before the kernel
// is loaded.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "arch/arch.h"
#include "bus/bus.h"
#include "bus/irq.h"

namespace hull::vmm {

struct MmioSlot {
  GuestAddress base = 0;
  uint64_t size = 0;
  uint32_t irq = 0;
  std::shared_ptr<IrqLine> irq_line;
};

class MmioSlots {
 public:
  using IrqFactory = std::function<std::shared_ptr<IrqLine>(uint32_t irq)>;
  MmioSlots(arch::Arch& arch, Bus& mmio, IrqFactory irq_factory);

  // The next free slot; throws BusError when the arch has no IRQ left.
  MmioSlot Allocate();
  // Puts `device` in `slot` on the MMIO bus and announces it to the guest.
  void Attach(const MmioSlot& slot, std::shared_ptr<IoHandler> device);

 private:
  arch::Arch& arch_;
  Bus& mmio_;
  IrqFactory irq_factory_;
  arch::DeviceLayout layout_;
  size_t next_ = 0;
};

}  // namespace hull::vmm
