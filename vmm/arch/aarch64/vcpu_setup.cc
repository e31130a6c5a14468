#include "arch/aarch64/vcpu_setup.h"

#include <asm/kvm.h>

#include <cstddef>

namespace hull::vmm::aarch64 {
namespace {

constexpr uint64_t CoreReg(size_t offset) {
  return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (offset / sizeof(uint32_t));
}
constexpr uint64_t kRegX0 = CoreReg(offsetof(kvm_regs, regs.regs[0]));
constexpr uint64_t kRegPc = CoreReg(offsetof(kvm_regs, regs.pc));
constexpr uint64_t kRegPstate = CoreReg(offsetof(kvm_regs, regs.pstate));
constexpr uint64_t kRegMpidr = ARM64_SYS_REG(3, 0, 0, 0, 5);  // MPIDR_EL1

constexpr uint64_t kPstateEl1h = 0x5;
constexpr uint64_t kPstateDaifMasked = 0xf << 6;  // D, A, I, F

}  // namespace

void InitVcpu(const kvm::Vm& vm, const kvm::Vcpu& vcpu, bool powered_off) {
  kvm_vcpu_init init = vm.ArmPreferredTarget();
  init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
  if (powered_off) init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
  vcpu.ArmInit(init);
}

void SetBootRegisters(const kvm::Vcpu& vcpu, uint64_t entry, uint64_t fdt_address) {
  vcpu.SetOneReg(kRegPstate, kPstateEl1h | kPstateDaifMasked, "PSTATE");
  vcpu.SetOneReg(kRegPc, entry, "PC");
  vcpu.SetOneReg(kRegX0, fdt_address, "X0");
  // X1-X3 are zero after KVM_ARM_VCPU_INIT, as booting.rst wants.
}

uint64_t ReadMpidr(const kvm::Vcpu& vcpu) {
  return vcpu.GetOneReg(kRegMpidr, "MPIDR_EL1");
}

}  // namespace hull::vmm::aarch64
