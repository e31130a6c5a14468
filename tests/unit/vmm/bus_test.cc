#include "bus/bus.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace hull::vmm {
namespace {

// Records accesses and answers reads with the low byte of the offset.
class RecordingDevice : public IoHandler {
 public:
  void Read(uint64_t offset, std::span<uint8_t> data) override {
    reads.push_back(offset);
    for (auto& b : data) b = static_cast<uint8_t>(offset);
  }
  void Write(uint64_t offset, std::span<const uint8_t> data) override {
    writes.emplace_back(offset, std::vector<uint8_t>(data.begin(), data.end()));
  }
  std::vector<uint64_t> reads;
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> writes;
};

TEST(BusTest, DispatchesWithOffsetsRelativeToTheDevice) {
  Bus bus("mmio");
  auto dev = std::make_shared<RecordingDevice>();
  bus.Register(0xd0001000, 0x1000, dev);
  std::array<uint8_t, 4> data{};
  ASSERT_TRUE(bus.Read(0xd0001070, data));
  EXPECT_EQ(dev->reads.back(), 0x70u);
  EXPECT_EQ(data[0], 0x70);
  const std::array<uint8_t, 2> w{1, 2};
  ASSERT_TRUE(bus.Write(0xd0001ffe, w));
  EXPECT_EQ(dev->writes.back().first, 0xffeu);
}

TEST(BusTest, UnclaimedAndStraddlingAccessesAreRefused) {
  Bus bus("pio");
  auto dev = std::make_shared<RecordingDevice>();
  bus.Register(0x3f8, 8, dev);
  std::array<uint8_t, 4> data{0xff, 0xff, 0xff, 0xff};
  EXPECT_FALSE(bus.Read(0x3f0, data));
  EXPECT_EQ(data[0], 0);  // unclaimed reads are zero
  EXPECT_FALSE(bus.Read(0x3fe, data));  // 4 bytes at 0x3fe cross the end
  EXPECT_FALSE(bus.Write(0x400, data));
  EXPECT_TRUE(dev->reads.empty());
}

TEST(BusTest, RejectsOverlapsAndEmptyRanges) {
  Bus bus("mmio");
  bus.Register(0x1000, 0x100, std::make_shared<RecordingDevice>());
  EXPECT_THROW(bus.Register(0x10ff, 0x10, std::make_shared<RecordingDevice>()), BusError);
  EXPECT_THROW(bus.Register(0xf00, 0x101, std::make_shared<RecordingDevice>()), BusError);
  EXPECT_THROW(bus.Register(0x2000, 0, std::make_shared<RecordingDevice>()), BusError);
  EXPECT_THROW(bus.Register(~0ull - 1, 4, std::make_shared<RecordingDevice>()), BusError);
  EXPECT_NO_THROW(bus.Register(0x1100, 0x100, std::make_shared<RecordingDevice>()));
}

}  // namespace
}  // namespace hull::vmm
