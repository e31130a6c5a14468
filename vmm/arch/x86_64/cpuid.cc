#include "arch/x86_64/cpuid.h"

namespace hull::vmm::x86 {
namespace {
constexpr uint32_t kLeafFeatures = 0x1;
constexpr uint32_t kLeafPerfMon = 0xa;
constexpr uint32_t kLeafExtTopology = 0xb;
constexpr uint32_t kLeafExtTopologyV2 = 0x1f;
constexpr uint32_t kEcxHypervisor = 1u << 31;
constexpr uint32_t kEcxTscDeadline = 1u << 24;
constexpr uint32_t kEdxHtt = 1u << 28;
}  // namespace

std::vector<kvm_cpuid_entry2> FilterCpuid(std::vector<kvm_cpuid_entry2> entries,
                                          const CpuidOptions& options) {
  const uint32_t vcpu_index = options.vcpu_index;
  const uint32_t vcpu_count = options.vcpu_count;
  for (auto& e : entries) {
    switch (e.function) {
      case kLeafFeatures:
        // EBX: [31:24] initial APIC ID, [23:16] logical processors, [15:8] CLFLUSH line in 8-byte
        // units.
        e.ebx = (vcpu_index << 24) | ((vcpu_count & 0xff) << 16) | (8u << 8) | (e.ebx & 0xff);
        e.ecx |= kEcxHypervisor;
        if (options.tsc_deadline) e.ecx |= kEcxTscDeadline;
        if (vcpu_count > 1) {
          e.edx |= kEdxHtt;
        } else {
          e.edx &= ~kEdxHtt;
        }
        break;
      case kLeafPerfMon:
        // No virtual PMU: the guest must not program counters that are not there.
        e.eax = e.ebx = e.ecx = e.edx = 0;
        break;
      case kLeafExtTopology:
      case kLeafExtTopologyV2:
        e.edx = vcpu_index;  // x2APIC ID
        break;
      default:
        break;
    }
  }
  return entries;
}

}  // namespace hull::vmm::x86
