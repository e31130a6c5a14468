// The private (non-shareable) backing of guest RAM: huge-page aligned, zeroed,
// translated like the memfd backing, and without a memfd.
#include <gtest/gtest.h>

#include "memory/guest_memory.h"

namespace hull::vmm {
namespace {

TEST(MemoryBacking, PrivateRegionIsAlignedZeroedAndUsable) {
  MemoryRegion::Options options;
  options.shareable = false;
  MemoryRegion region(0, 8 << 20, options);
  EXPECT_EQ(region.memfd(), -1);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(region.host_base()) % (2u << 20), 0u);
  GuestMemory memory;
  memory.AddRegion(std::move(region));
  EXPECT_EQ(memory.ReadObj<uint64_t>(0x7ff000), 0u);
  EXPECT_TRUE(memory.WriteObj<uint64_t>(0x7ffff8, 0x1122334455667788));
  EXPECT_EQ(memory.ReadObj<uint64_t>(0x7ffff8), 0x1122334455667788u);
  EXPECT_FALSE(memory.ReadObj<uint64_t>(0x7ffffc).has_value());
}

TEST(MemoryBacking, ShareableRegionKeepsItsMemfd) {
  MemoryRegion region(0, 1 << 20);
  EXPECT_GE(region.memfd(), 0);
}

TEST(MemoryBacking, MovedPrivateRegionUnmapsOnce) {
  MemoryRegion::Options options;
  options.shareable = false;
  MemoryRegion a(0, 4 << 20, options);
  uint8_t* host = a.host_base();
  MemoryRegion b(std::move(a));
  EXPECT_EQ(b.host_base(), host);
  EXPECT_EQ(a.host_base(), nullptr);
  b.host_base()[0] = 1;
}

}  // namespace
}  // namespace hull::vmm
