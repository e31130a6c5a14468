#include "devices/virtio/virtio_rng.h"

#include <gtest/gtest.h>

#include <vector>

#include "io/event_loop.h"
#include "virtio/mmio_transport.h"
#include "virtio_fake_driver.h"

namespace hull::vmm::virtio {
namespace {

constexpr uint64_t kData = 0x10000;
constexpr uint64_t kFeatures = (1ull << kFeatureVersion1) | (1ull << kFeatureEventIdx);

TEST(VirtioRngTest, FillsWritableBuffersWithRandomBytes) {
  GuestMemory mem;
  mem.AddRegion(MemoryRegion(0, 1 << 20));
  testing::FakeIrq irq;
  io::EventLoop loop;
  auto rng = std::make_shared<VirtioRng>();
  MmioTransport transport(rng, mem, testing::Unowned(irq), testing::Unowned(loop), 0xd0001000, nullptr);
  testing::FakeMmioDriver drv(transport);
  testing::FakeQueue q(mem, 0x1000, 16);
  ASSERT_TRUE(drv.Negotiate(kFeatures));
  drv.SetupQueue(0, q);
  drv.DriverOk();

  q.AddChain({{kData, 64, true}, {kData + 0x1000, 64, true}});
  q.AddChain({{kData + 0x2000, 16, true}});
  drv.Notify(0);
  loop.RunOnce(1000);
  ASSERT_EQ(q.used_idx(), 2);
  EXPECT_EQ(q.used_elem(0).len, 128u);
  EXPECT_EQ(q.used_elem(1).len, 16u);
  std::vector<uint8_t> a(64), b(64);
  mem.Read(kData, a);
  mem.Read(kData + 0x1000, b);
  EXPECT_NE(a, std::vector<uint8_t>(64, 0));  // 2^-512 chance of a false failure
  EXPECT_NE(a, b);
  EXPECT_EQ(irq.count, 1);
}

TEST(VirtioRngTest, CapsOneRequestAndIgnoresReadableBuffers) {
  GuestMemory mem;
  mem.AddRegion(MemoryRegion(0, 1 << 20));
  testing::FakeIrq irq;
  io::EventLoop loop;
  auto rng = std::make_shared<VirtioRng>();
  MmioTransport transport(rng, mem, testing::Unowned(irq), testing::Unowned(loop), 0xd0001000, nullptr);
  testing::FakeMmioDriver drv(transport);
  testing::FakeQueue q(mem, 0x1000, 16);
  drv.Negotiate(kFeatures);
  drv.SetupQueue(0, q);
  drv.DriverOk();
  q.AddChain({{kData, 8, false}, {kData + 0x10000, 0x30000, true}, {kData + 0x40000, 0x30000, true}});
  drv.Notify(0);
  loop.RunOnce(1000);
  ASSERT_EQ(q.used_idx(), 1);
  EXPECT_EQ(q.used_elem(0).len, VirtioRng::kMaxBytesPerRequest);
}

}  // namespace
}  // namespace hull::vmm::virtio
