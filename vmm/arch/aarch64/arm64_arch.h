// The arm64 back end: KVM at EL2 with an in-kernel GICv3 and the armv8 timer,
// a PL011 console, PSCI (in KVM) for CPU bring-up, power-off and reset, an
// Image + FDT boot (the FDT announces every device, virtio-mmio included).
//
// Arch's call order fits arm64 as follows: SetupVm creates the GIC;
// LoadKernel (which knows the vCPU count) places it, loads Image and initrd
// and reserves the FDT's place; SetupVcpu initializes each vCPU and, once the
// last one exists, initializes the GIC and writes the FDT with the MPIDRs KVM
// gave the vCPUs.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arch/aarch64/fdt_builder.h"
#include "arch/aarch64/gic.h"
#include "arch/arch.h"
#include "devices/legacy/pl011.h"

namespace hull::vmm::aarch64 {

class Arm64Arch : public arch::Arch {
 public:
  std::string name() const override { return "aarch64"; }
  arch::DeviceLayout Layout() const override;
  std::vector<arch::RamRegion> RamRegions(uint64_t mem_size) const override;
  void SetupVm(kvm::Vm& vm) override;
  void AddPlatformDevices(arch::PlatformContext& context) override;
  void ConsoleInput(std::span<const uint8_t> bytes) override;
  bool SendCtrlAltDel() override { return false; }  // no keyboard; PSCI reset only
  void AnnounceMmioDevice(GuestAddress base, uint64_t size, uint32_t irq) override;
  void LoadKernel(const GuestMemory& memory, const arch::BootSource& boot,
                  uint32_t vcpu_count) override;
  void SetupVcpu(kvm::Vcpu& vcpu, uint32_t vcpu_count) override;

 private:
  kvm::Vm* vm_ = nullptr;
  const GuestMemory* memory_ = nullptr;
  std::unique_ptr<VgicV3> gic_;
  std::shared_ptr<devices::Pl011> uart_;
  FdtInputs fdt_;  // filled as devices, kernel and vCPUs appear
  uint64_t fdt_address_ = 0;
  uint64_t entry_ = 0;
};

}  // namespace hull::vmm::aarch64
