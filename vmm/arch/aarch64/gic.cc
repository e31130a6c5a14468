#include "arch/aarch64/gic.h"

#include "arch/arch.h"

namespace hull::vmm::aarch64 {

VgicV3::VgicV3(const kvm::Vm& vm) {
  if (!kvm::Device::Supported(vm, KVM_DEV_TYPE_ARM_VGIC_V3)) {
    const bool v2 = kvm::Device::Supported(vm, KVM_DEV_TYPE_ARM_VGIC_V2);
    throw arch::BootError(
        std::string("GICv3 required: this host's KVM ") +
        (v2 ? "emulates only a GICv2" : "has no in-kernel GIC") +
        "; hull's arm64 guests need a GICv3 host (under QEMU: -M virt,gic-version=3)");
  }
  device_ = std::make_unique<kvm::Device>(vm, KVM_DEV_TYPE_ARM_VGIC_V3, "vGICv3");
}

void VgicV3::SetNrIrqs(uint32_t nr_irqs) {
  device_->SetAttr(KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs, "the number of interrupts");
}

void VgicV3::SetAddresses(const GicLayout& layout) {
  const uint64_t dist = layout.dist_base;
  const uint64_t redist = layout.redist_base;
  device_->SetAttr(KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist,
                   "the distributor address");
  // The legacy single-region attribute: KVM sizes it by the vCPU count.
  device_->SetAttr(KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist,
                   "the redistributor address");
}

void VgicV3::Initialize() {
  device_->SetAttr(KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, nullptr,
                   "CTRL_INIT (initializing the GIC)");
}

}  // namespace hull::vmm::aarch64
