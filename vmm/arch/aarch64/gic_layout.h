// Where the GICv3 distributor and redistributors go for a given vCPU count:
// one 64 KiB distributor, and 2 x 64 KiB (RD_base + SGI_base) redistributor
// frames per vCPU, packed directly below the distributor.
#pragma once

#include <cstdint>

namespace hull::vmm::aarch64 {

struct GicLayout {
  uint64_t dist_base = 0;
  uint64_t dist_size = 0;
  uint64_t redist_base = 0;
  uint64_t redist_size = 0;  // all vCPUs' frames
};

// Throws arch::BootError for 0 vCPUs or more than the region below the
// distributor holds.
GicLayout ComputeGicLayout(uint32_t vcpu_count);

// Most vCPUs the layout has room for.
uint32_t MaxGicVcpus();

}  // namespace hull::vmm::aarch64
