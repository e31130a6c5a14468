// A device the guest breaks says so in hull-vmm's log (found by the
// hostile-guest e2e test: failures used to be silent), and a guest that
// breaks a device in a loop cannot flood the log.
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

#include "devices/virtio/virtio_rng.h"
#include "io/event_loop.h"
#include "virtio/mmio_transport.h"
#include "virtio_fake_driver.h"

namespace hull::vmm::virtio {
namespace {

constexpr uint64_t kRings = 0x1000;
constexpr uint64_t kFeatures = 1ull << kFeatureVersion1;

// Sends spdlog's default logger into a ring buffer for the test's lifetime.
class CapturedLog {
 public:
  CapturedLog()
      : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(4096)),
        old_(spdlog::default_logger()) {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink_));
  }
  ~CapturedLog() { spdlog::set_default_logger(old_); }
  std::vector<std::string> Lines() { return sink_->last_formatted(); }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> old_;
};

class DeviceFailureLogTest : public ::testing::Test {
 protected:
  DeviceFailureLogTest() {
    mem.AddRegion(MemoryRegion(0, 1 << 20));
    rng = std::make_shared<VirtioRng>();
    transport = std::make_unique<MmioTransport>(rng, mem, testing::Unowned(irq),
                                                testing::Unowned(loop), 0xd0001000, nullptr);
  }
  // Sets the device up and feeds it a descriptor outside guest RAM.
  void BreakOnce(testing::FakeMmioDriver& drv) {
    testing::FakeQueue q(mem, kRings, 16);
    ASSERT_TRUE(drv.Negotiate(kFeatures));
    drv.SetupQueue(0, q);
    drv.DriverOk();
    q.AddChain({{0xfff00000, 32, true}});
    drv.Notify(0);
    loop.RunOnce(1000);
    ASSERT_TRUE(drv.Status() & kStatusNeedsReset);
  }
  CapturedLog log;
  GuestMemory mem;
  testing::FakeIrq irq;
  io::EventLoop loop;
  std::shared_ptr<VirtioRng> rng;
  std::unique_ptr<MmioTransport> transport;
};

TEST_F(DeviceFailureLogTest, MalformedChainIsLoggedWithDeviceAndReason) {
  testing::FakeMmioDriver drv(*transport);
  BreakOnce(drv);
  auto lines = log.Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("virtio-rng device failed"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("outside guest RAM"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("[warning]"), std::string::npos) << lines[0];
  EXPECT_EQ(rng->failures(), 1u);
}

TEST_F(DeviceFailureLogTest, BadRingsAtDriverOkAreLogged) {
  testing::FakeMmioDriver drv(*transport);
  testing::FakeQueue bad(mem, (1 << 20) - 0x100, 64);  // rings run past the end of RAM
  ASSERT_TRUE(drv.Negotiate(kFeatures));
  drv.SetupQueue(0, bad);
  drv.DriverOk();
  ASSERT_TRUE(drv.Status() & kStatusNeedsReset);
  auto lines = log.Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("virtio-rng device failed"), std::string::npos) << lines[0];
}

TEST_F(DeviceFailureLogTest, RepeatedFailuresAreLoggedSparsely) {
  testing::FakeMmioDriver drv(*transport);
  constexpr int kBreaks = 100;
  for (int i = 0; i < kBreaks; ++i) BreakOnce(drv);  // Negotiate() resets the device first
  EXPECT_EQ(rng->failures(), static_cast<uint64_t>(kBreaks));
  // 1..10, then 16, 32 and 64.
  auto lines = log.Lines();
  ASSERT_EQ(lines.size(), VirtioDevice::kFailuresLogged + 3);
  EXPECT_NE(lines.back().find("failure 64 of this device"), std::string::npos) << lines.back();
}

TEST(DeviceTypeNameTest, NamesKnownTypesAndNumbersOthers) {
  EXPECT_EQ(DeviceTypeName(2), "blk");
  EXPECT_EQ(DeviceTypeName(19), "vsock");
  EXPECT_EQ(DeviceTypeName(26), "fs");
  EXPECT_EQ(DeviceTypeName(42), "type-42");
}

}  // namespace
}  // namespace hull::vmm::virtio
