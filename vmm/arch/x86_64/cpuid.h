// The CPUID a vCPU sees: what KVM supports, with the per-vCPU topology
// (APIC IDs) filled in and the hypervisor bit set.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

namespace hull::vmm::x86 {

std::vector<kvm_cpuid_entry2> FilterCpuid(std::vector<kvm_cpuid_entry2> supported, uint32_t vcpu_index,
                                          uint32_t vcpu_count);

}  // namespace hull::vmm::x86
