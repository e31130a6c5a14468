// Puts one vCPU in the state the 64-bit Linux boot protocol expects: long
// mode with the boot tables (boot_tables.h), RSI at the zero page, CPUID,
// MSRs, FPU and the local APIC's LINT0/LINT1 wired as on a PC.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

#include "kvm/vcpu.h"

namespace hull::vmm::x86 {

void SetupBootVcpu(kvm::Vcpu& vcpu, const std::vector<kvm_cpuid_entry2>& cpuid, uint64_t entry);

// The special registers of the boot state, from `base` (what KVM_GET_SREGS gave).
kvm_sregs BootSregs(kvm_sregs base);

}  // namespace hull::vmm::x86
