// The x86-64 back end: PC-style platform (in-kernel PIC/IOAPIC/PIT, COM1,
// i8042), the 64-bit Linux boot protocol, MP table for SMP, virtio-mmio
// devices announced on the kernel command line.
#pragma once

#include <linux/kvm.h>

#include <memory>
#include <string>
#include <vector>

#include "arch/arch.h"
#include "devices/legacy/i8042.h"
#include "devices/legacy/serial.h"

namespace hull::vmm::x86 {

class X86Arch : public arch::Arch {
 public:
  // `supported_cpuid`: KVM_GET_SUPPORTED_CPUID of the host; `tsc_deadline`:
  // KVM_CAP_TSC_DEADLINE_TIMER.
  X86Arch(std::vector<kvm_cpuid_entry2> supported_cpuid, bool tsc_deadline);

  std::string name() const override { return "x86_64"; }
  arch::DeviceLayout Layout() const override;
  std::vector<arch::RamRegion> RamRegions(uint64_t mem_size) const override;
  void SetupVm(kvm::Vm& vm) override;
  void AddPlatformDevices(arch::PlatformContext& context) override;
  void ConsoleInput(std::span<const uint8_t> bytes) override;
  bool SendCtrlAltDel() override;
  void AnnounceMmioDevice(GuestAddress base, uint64_t size, uint32_t irq) override;
  void LoadKernel(const GuestMemory& memory, const arch::BootSource& boot,
                  uint32_t vcpu_count) override;
  void SetupVcpu(kvm::Vcpu& vcpu, uint32_t vcpu_count) override;

  // The full command line the guest gets (user part + device announcements).
  const std::string& device_cmdline() const { return device_cmdline_; }

 private:
  std::vector<kvm_cpuid_entry2> supported_cpuid_;
  bool tsc_deadline_;
  std::shared_ptr<devices::Serial> serial_;
  std::shared_ptr<devices::I8042> i8042_;
  std::string device_cmdline_;
  uint64_t entry_ = 0;
};

}  // namespace hull::vmm::x86
