#include "memory/guest_memory.h"

#include <gtest/gtest.h>

#include <array>
#include <limits>

namespace hull::vmm {
namespace {

GuestMemory TwoRegions() {
  GuestMemory mem;
  mem.AddRegion(MemoryRegion(0, 64 * 1024));
  mem.AddRegion(MemoryRegion(0x100000, 4096));
  return mem;
}

TEST(GuestMemoryTest, TranslatesInsideARegion) {
  GuestMemory mem = TwoRegions();
  auto span = mem.Translate(0x1000, 16);
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->size(), 16u);
  EXPECT_EQ(span->data(), mem.regions()[0].host_base() + 0x1000);
}

TEST(GuestMemoryTest, RefusesRangesOutsideOrAcrossRegions) {
  GuestMemory mem = TwoRegions();
  EXPECT_FALSE(mem.Translate(64 * 1024, 1));             // gap after region 0
  EXPECT_FALSE(mem.Translate(64 * 1024 - 4, 8));         // crosses region 0's end
  EXPECT_FALSE(mem.Translate(0x100000 + 4095, 2));       // crosses region 1's end
  EXPECT_TRUE(mem.Translate(0x100000 + 4095, 1));        // last byte is fine
  EXPECT_FALSE(mem.Translate(0x1000, std::numeric_limits<uint64_t>::max()));  // no overflow
  EXPECT_FALSE(mem.Translate(std::numeric_limits<uint64_t>::max(), 2));
}

TEST(GuestMemoryTest, ReadWriteObjRoundTrip) {
  GuestMemory mem = TwoRegions();
  ASSERT_TRUE(mem.WriteObj<uint32_t>(0x100010, 0xdeadbeef));
  EXPECT_EQ(mem.ReadObj<uint32_t>(0x100010), 0xdeadbeefu);
  EXPECT_FALSE(mem.WriteObj<uint64_t>(0x100000 + 4092, 1));
  EXPECT_FALSE(mem.ReadObj<uint64_t>(0x200000).has_value());
}

TEST(GuestMemoryTest, RejectsOverlapAndBadSizes) {
  GuestMemory mem = TwoRegions();
  EXPECT_THROW(mem.AddRegion(MemoryRegion(0x8000, 0x10000)), MemoryError);
  EXPECT_THROW(MemoryRegion(0, 0), MemoryError);
  EXPECT_THROW(MemoryRegion(0, 100), MemoryError);  // not page aligned
}

TEST(GuestMemoryTest, ThrowingAccessorsNameTheRange) {
  GuestMemory mem = TwoRegions();
  std::array<uint8_t, 8> buf{};
  try {
    mem.WriteOrThrow(0x300000, buf, "loading initrd");
    FAIL() << "expected MemoryError";
  } catch (const MemoryError& e) {
    EXPECT_NE(std::string(e.what()).find("loading initrd"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("0x300000"), std::string::npos);
  }
  EXPECT_EQ(mem.total_size(), 64u * 1024 + 4096);
  EXPECT_EQ(mem.end(), 0x101000u);
}

}  // namespace
}  // namespace hull::vmm
