// Puts an arm64 vCPU in the state booting.rst asks for: KVM_ARM_VCPU_INIT
// with the host's preferred target and PSCI 0.2 (secondaries start powered
// off; KVM itself answers the guest's PSCI CPU_ON), and for the boot vCPU
// PC = kernel entry, X0 = FDT address, PSTATE = EL1h with DAIF masked.
#pragma once

#include <cstdint>

#include "kvm/vcpu.h"
#include "kvm/vm.h"

namespace hull::vmm::aarch64 {

void InitVcpu(const kvm::Vm& vm, const kvm::Vcpu& vcpu, bool powered_off);
void SetBootRegisters(const kvm::Vcpu& vcpu, uint64_t entry, uint64_t fdt_address);
// MPIDR_EL1 as KVM set it (what the FDT's cpu nodes must say).
uint64_t ReadMpidr(const kvm::Vcpu& vcpu);

}  // namespace hull::vmm::aarch64
