// The CPUID a vCPU sees: what KVM supports, with the per-vCPU topology
// (APIC IDs) filled in and the hypervisor bit set.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

namespace hull::vmm::x86 {

struct CpuidOptions {
  uint32_t vcpu_index = 0;
  uint32_t vcpu_count = 1;
  // KVM_CAP_TSC_DEADLINE_TIMER: KVM emulates the LAPIC's TSC-deadline mode but
  // leaves advertising it to the VMM. Without it Linux calibrates the LAPIC
  // timer against the PIT, which under nested virtualization often fails
  // ("APIC timer disabled due to verification failure") and costs seconds.
  bool tsc_deadline = false;
};

std::vector<kvm_cpuid_entry2> FilterCpuid(std::vector<kvm_cpuid_entry2> supported,
                                          const CpuidOptions& options);

}  // namespace hull::vmm::x86
