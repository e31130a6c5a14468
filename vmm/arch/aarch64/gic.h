// The in-kernel GICv3 (KVM_DEV_TYPE_ARM_VGIC_V3), configured in the order
// Documentation/virt/kvm/devices/arm-vgic-v3.rst asks for: create, set the
// number of interrupts and the distributor/redistributor addresses, then
// CTRL_INIT once every vCPU exists (and before any runs).
#pragma once

#include <memory>

#include "arch/aarch64/gic_layout.h"
#include "kvm/device.h"
#include "kvm/vm.h"

namespace hull::vmm::aarch64 {

class VgicV3 {
 public:
  // Throws arch::BootError "GICv3 required" on hosts whose KVM offers only a
  // GICv2 (or no in-kernel GIC at all).
  explicit VgicV3(const kvm::Vm& vm);

  // Total interrupts including the 32 private ones (a multiple of 32).
  void SetNrIrqs(uint32_t nr_irqs);
  void SetAddresses(const GicLayout& layout);
  // KVM_DEV_ARM_VGIC_CTRL_INIT: after all vCPUs were created.
  void Initialize();

 private:
  std::unique_ptr<kvm::Device> device_;
};

}  // namespace hull::vmm::aarch64
