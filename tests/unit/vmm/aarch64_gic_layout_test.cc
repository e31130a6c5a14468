// The GICv3 layout for 1, 2 and 8 vCPUs and its limits.
#include <gtest/gtest.h>

#include "arch/aarch64/gic_layout.h"
#include "arch/aarch64/layout.h"
#include "arch/arch.h"

namespace hull::vmm::aarch64 {
namespace {

TEST(Aarch64GicLayout, RedistributorsSitBelowTheDistributorOneFramePairPerVcpu) {
  for (uint32_t n : {1u, 2u, 8u}) {
    SCOPED_TRACE(n);
    const GicLayout gic = ComputeGicLayout(n);
    EXPECT_EQ(gic.dist_base, 0x3fff0000u);
    EXPECT_EQ(gic.dist_size, 0x10000u);
    EXPECT_EQ(gic.redist_size, n * 0x20000ull);
    EXPECT_EQ(gic.redist_base + gic.redist_size, gic.dist_base) << "packed under the distributor";
    EXPECT_EQ(gic.redist_base % 0x10000, 0u) << "64 KiB aligned frames";
    EXPECT_LE(gic.dist_base + gic.dist_size, kBootMarkerAddress) << "below the device window";
  }
  EXPECT_EQ(ComputeGicLayout(1).redist_base, 0x3ffd0000u);
  EXPECT_EQ(ComputeGicLayout(2).redist_base, 0x3ffb0000u);
  EXPECT_EQ(ComputeGicLayout(8).redist_base, 0x3fef0000u);
}

TEST(Aarch64GicLayout, RefusesZeroAndTooManyVcpus) {
  EXPECT_THROW(ComputeGicLayout(0), arch::BootError);
  EXPECT_NO_THROW(ComputeGicLayout(MaxGicVcpus()));
  EXPECT_GE(ComputeGicLayout(MaxGicVcpus()).redist_base, kGicRedistFloor);
  try {
    ComputeGicLayout(MaxGicVcpus() + 1);
    FAIL() << "accepted too many vCPUs";
  } catch (const arch::BootError& e) {
    EXPECT_NE(std::string(e.what()).find("vcpu_count"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hull::vmm::aarch64
