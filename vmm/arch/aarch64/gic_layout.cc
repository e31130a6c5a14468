#include "arch/aarch64/gic_layout.h"

#include <string>

#include "arch/aarch64/layout.h"
#include "arch/arch.h"

namespace hull::vmm::aarch64 {

uint32_t MaxGicVcpus() {
  return static_cast<uint32_t>((kGicDistBase - kGicRedistFloor) / kGicRedistSizePerVcpu);
}

GicLayout ComputeGicLayout(uint32_t vcpu_count) {
  if (vcpu_count == 0) throw arch::BootError("vcpu_count must be at least 1");
  if (vcpu_count > MaxGicVcpus()) {
    throw arch::BootError("vcpu_count " + std::to_string(vcpu_count) +
                          " is more than hull's arm64 GIC layout holds (" +
                          std::to_string(MaxGicVcpus()) + ")");
  }
  GicLayout layout;
  layout.dist_base = kGicDistBase;
  layout.dist_size = kGicDistSize;
  layout.redist_size = uint64_t{vcpu_count} * kGicRedistSizePerVcpu;
  layout.redist_base = kGicDistBase - layout.redist_size;
  return layout;
}

}  // namespace hull::vmm::aarch64
