#include "main/mmio_slots.h"

namespace hull::vmm {

MmioSlots::MmioSlots(arch::Arch& arch, Bus& mmio, IrqFactory irq_factory)
    : arch_(arch), mmio_(mmio), irq_factory_(std::move(irq_factory)), layout_(arch.Layout()) {}

MmioSlot MmioSlots::Allocate() {
  if (next_ >= layout_.device_irqs.size()) {
    throw BusError("no interrupt left for another virtio-mmio device (at most " +
                   std::to_string(layout_.device_irqs.size()) + " on " + arch_.name() + ")");
  }
  MmioSlot slot;
  slot.base = layout_.mmio_base + next_ * layout_.mmio_slot_size;
  slot.size = layout_.mmio_slot_size;
  slot.irq = layout_.device_irqs[next_];
  slot.irq_line = irq_factory_(slot.irq);
  ++next_;
  return slot;
}

void MmioSlots::Attach(const MmioSlot& slot, std::shared_ptr<IoHandler> device) {
  mmio_.Register(slot.base, slot.size, std::move(device));
  arch_.AnnounceMmioDevice(slot.base, slot.size, slot.irq);
}

}  // namespace hull::vmm
