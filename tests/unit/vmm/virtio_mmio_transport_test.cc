#include "virtio/mmio_transport.h"

#include <gtest/gtest.h>
#include <linux/virtio_mmio.h>

#include <memory>

#include "devices/virtio/virtio_rng.h"
#include "io/event_loop.h"
#include "virtio_fake_driver.h"

namespace hull::vmm::virtio {
namespace {

using testing::FakeIrq;
using testing::FakeMmioDriver;
using testing::FakeQueue;

constexpr uint64_t kBase = 0xd0001000;
constexpr uint64_t kRings = 0x1000;
constexpr uint64_t kData = 0x10000;
constexpr uint64_t kFeatures = (1ull << kFeatureVersion1) | (1ull << kFeatureEventIdx) | (1ull << kFeatureIndirectDesc);

class RecordingRegistrar : public IoEventRegistrar {
 public:
  void RegisterIoEvent(uint64_t address, uint32_t length, std::optional<uint64_t> datamatch, int fd) override {
    calls.push_back({address, length, datamatch.value_or(~0ull), fd});
  }
  struct Call {
    uint64_t address;
    uint32_t length;
    uint64_t datamatch;
    int fd;
  };
  std::vector<Call> calls;
};

class MmioTransportTest : public ::testing::Test {
 protected:
  MmioTransportTest() {
    mem.AddRegion(MemoryRegion(0, 1 << 20));
    rng = std::make_shared<VirtioRng>();
    transport = std::make_unique<MmioTransport>(rng, mem, testing::Unowned(irq), testing::Unowned(loop), kBase, &registrar);
  }
  GuestMemory mem;
  FakeIrq irq;
  io::EventLoop loop;
  RecordingRegistrar registrar;
  std::shared_ptr<VirtioRng> rng;
  std::unique_ptr<MmioTransport> transport;
};

TEST_F(MmioTransportTest, IdentifiesAsModernVirtioMmio) {
  FakeMmioDriver drv(*transport);
  EXPECT_EQ(drv.Read32(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976u);
  EXPECT_EQ(drv.Read32(VIRTIO_MMIO_VERSION), 2u);
  EXPECT_EQ(drv.Read32(VIRTIO_MMIO_DEVICE_ID), kDeviceTypeRng);
  EXPECT_EQ(drv.DeviceFeatures() & kFeatures, kFeatures);
  drv.Write32(VIRTIO_MMIO_QUEUE_SEL, 0);
  EXPECT_EQ(drv.Read32(VIRTIO_MMIO_QUEUE_NUM_MAX), 256u);
  drv.Write32(VIRTIO_MMIO_QUEUE_SEL, 1);  // no such queue
  EXPECT_EQ(drv.Read32(VIRTIO_MMIO_QUEUE_NUM_MAX), 0u);
}

TEST_F(MmioTransportTest, RegistersOneIoEventPerQueueAtQueueNotify) {
  ASSERT_EQ(registrar.calls.size(), 1u);
  EXPECT_EQ(registrar.calls[0].address, kBase + 0x50);
  EXPECT_EQ(registrar.calls[0].length, 4u);
  EXPECT_EQ(registrar.calls[0].datamatch, 0u);
}

TEST_F(MmioTransportTest, FeaturesOkRefusedForUnofferedOrLegacyFeatures) {
  FakeMmioDriver drv(*transport);
  EXPECT_FALSE(drv.Negotiate((1ull << kFeatureVersion1) | (1ull << 5)));  // bit 5 never offered
  EXPECT_FALSE(drv.Negotiate(0));                                        // legacy driver
  EXPECT_TRUE(drv.Negotiate(kFeatures));
}

TEST_F(MmioTransportTest, DriverOkActivatesAndDoorbellRunsTheDeviceOnTheIoThread) {
  FakeMmioDriver drv(*transport);
  FakeQueue q(mem, kRings, 64);
  ASSERT_TRUE(drv.Negotiate(kFeatures));
  drv.SetupQueue(0, q);
  drv.DriverOk();
  EXPECT_EQ(drv.Status(), 15u);
  EXPECT_TRUE(rng->active());
  q.AddChain({{kData, 32, true}});
  drv.Notify(0);
  EXPECT_EQ(q.used_idx(), 0);  // the vCPU write only rang the doorbell
  EXPECT_EQ(loop.RunOnce(1000), 1);
  EXPECT_EQ(q.used_idx(), 1);
  EXPECT_EQ(q.used_elem(0).len, 32u);
  EXPECT_EQ(irq.count, 1);
  EXPECT_EQ(drv.Read32(VIRTIO_MMIO_INTERRUPT_STATUS), 1u);
  drv.Write32(VIRTIO_MMIO_INTERRUPT_ACK, 1);
  EXPECT_EQ(drv.Read32(VIRTIO_MMIO_INTERRUPT_STATUS), 0u);
}

TEST_F(MmioTransportTest, QueueAddressesReadBackAndFreezeOnceReady) {
  FakeMmioDriver drv(*transport);
  FakeQueue q(mem, kRings, 64);
  drv.Negotiate(kFeatures);
  drv.SetupQueue(0, q);
  EXPECT_EQ(drv.Read32(VIRTIO_MMIO_QUEUE_DESC_LOW), q.desc_addr());
  EXPECT_EQ(drv.Read32(VIRTIO_MMIO_QUEUE_READY), 1u);
  drv.Write32(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x5000);  // ignored: queue is ready
  EXPECT_EQ(drv.Read32(VIRTIO_MMIO_QUEUE_DESC_LOW), q.desc_addr());
}

TEST_F(MmioTransportTest, BadRingsAtDriverOkSetNeedsResetAndResetRecovers) {
  FakeMmioDriver drv(*transport);
  FakeQueue bad(mem, (1 << 20) - 0x100, 64);  // rings run past the end of RAM
  drv.Negotiate(kFeatures);
  drv.SetupQueue(0, bad);
  drv.DriverOk();
  EXPECT_TRUE(drv.Status() & kStatusNeedsReset);
  EXPECT_FALSE(rng->active());
  EXPECT_NE(rng->failure().find("outside guest RAM"), std::string::npos);
  EXPECT_EQ(drv.Read32(VIRTIO_MMIO_INTERRUPT_STATUS) & kInterruptConfigChange, kInterruptConfigChange);
  // Doorbells of a failed device are ignored, not a crash.
  drv.Notify(0);
  loop.RunOnce(0);
  // Reset, then a good setup works again.
  FakeQueue good(mem, kRings, 64);
  ASSERT_TRUE(drv.Negotiate(kFeatures));
  drv.SetupQueue(0, good);
  drv.DriverOk();
  EXPECT_EQ(drv.Status(), 15u);
  EXPECT_TRUE(rng->failure().empty());
}

TEST_F(MmioTransportTest, MalformedChainStopsTheDeviceOnly) {
  FakeMmioDriver drv(*transport);
  FakeQueue q(mem, kRings, 64);
  drv.Negotiate(kFeatures);
  drv.SetupQueue(0, q);
  drv.DriverOk();
  q.AddChain({{0xfff00000, 32, true}});  // outside RAM
  drv.Notify(0);
  loop.RunOnce(1000);
  EXPECT_TRUE(drv.Status() & kStatusNeedsReset);
  EXPECT_EQ(q.used_idx(), 0);
}

TEST_F(MmioTransportTest, ConfigGenerationAndUnalignedRegisterAccess) {
  FakeMmioDriver drv(*transport);
  EXPECT_EQ(drv.Read32(VIRTIO_MMIO_CONFIG_GENERATION), 0u);
  uint16_t half = 0;  // the bus pre-zeroes reads
  transport->Read(VIRTIO_MMIO_MAGIC_VALUE, {reinterpret_cast<uint8_t*>(&half), 2});
  EXPECT_EQ(half, 0);  // registers are 32-bit only
}

TEST(MmioTransportCmdline, FormatsTheKernelArgument) {
  EXPECT_EQ(MmioTransport::KernelCommandLineArg(0xd0001000, 5), "virtio_mmio.device=4K@0xd0001000:5");
}

}  // namespace
}  // namespace hull::vmm::virtio
