#include "devices/virtio/virtio_balloon.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "devices/virtio/guest_ram_discard.h"
#include "io/event_loop.h"
#include "virtio/mmio_transport.h"
#include "virtio_fake_driver.h"

namespace hull::vmm::virtio {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kReportingFeatures =
    (1ull << kFeatureVersion1) | (1ull << kFeatureEventIdx) | (1ull << kBalloonFeatureReporting);

MemoryRegion::Options Private() {
  MemoryRegion::Options o;
  o.shareable = false;
  return o;
}

// Guest RAM, a balloon behind a virtio-mmio transport, and a driver that set
// up the three queues (rings in the first MiB of guest RAM).
struct Rig {
  explicit Rig(BalloonOptions options = {}, MemoryRegion::Options backing = Private(), bool split = false) {
    if (split) {  // two adjacent regions: [0, 4 MiB) and [4 MiB, 8 MiB)
      mem.AddRegion(MemoryRegion(0, 4 * kMiB, backing));
      mem.AddRegion(MemoryRegion(4 * kMiB, 4 * kMiB, backing));
    } else {
      mem.AddRegion(MemoryRegion(0, 8 * kMiB, backing));
    }
    balloon = std::make_shared<VirtioBalloon>(options);
    transport = std::make_unique<MmioTransport>(balloon, mem, testing::Unowned(irq), testing::Unowned(loop),
                                                0xd0001000, nullptr);
    drv = std::make_unique<testing::FakeMmioDriver>(*transport);
  }
  void Start(uint64_t features = kReportingFeatures) {
    ASSERT_TRUE(drv->Negotiate(features));
    drv->SetupQueue(0, inflate);
    drv->SetupQueue(1, deflate);
    if (features & (1ull << kBalloonFeatureReporting)) drv->SetupQueue(2, reporting);
    drv->DriverOk();
  }
  void Kick(uint32_t queue) {
    drv->Notify(queue);
    loop.RunOnce(1000);
  }
  void Fill(uint64_t addr, uint64_t len, uint8_t byte) {
    std::memset(mem.Translate(addr, len)->data(), byte, len);
  }
  // True when every byte of [addr, addr+len) is `byte`.
  bool All(uint64_t addr, uint64_t len, uint8_t byte) {
    auto s = *mem.Translate(addr, len);
    for (uint8_t b : s) {
      if (b != byte) return false;
    }
    return true;
  }
  uint32_t Config32(uint64_t offset) { return drv->Read32(0x100 + offset); }

  GuestMemory mem;
  testing::FakeIrq irq;
  io::EventLoop loop;
  std::shared_ptr<VirtioBalloon> balloon;
  std::unique_ptr<MmioTransport> transport;
  std::unique_ptr<testing::FakeMmioDriver> drv;
  testing::FakeQueue inflate{mem, 0x1000, 16};
  testing::FakeQueue deflate{mem, 0x3000, 16};
  testing::FakeQueue reporting{mem, 0x5000, 32};
};

TEST(VirtioBalloonTest, OffersReportingAndDeflateOnOomAsConfigured) {
  Rig with({0, true, true});
  EXPECT_EQ(with.drv->Read32(VIRTIO_MMIO_DEVICE_ID), kDeviceTypeBalloon);
  const uint64_t f = with.drv->DeviceFeatures();
  EXPECT_TRUE(f & (1ull << kBalloonFeatureReporting));
  EXPECT_TRUE(f & (1ull << kBalloonFeatureDeflateOnOom));
  with.drv->Write32(VIRTIO_MMIO_QUEUE_SEL, 2);
  EXPECT_EQ(with.drv->Read32(VIRTIO_MMIO_QUEUE_NUM_MAX), VirtioBalloon::kReportingQueueSize);

  Rig without({0, false, false});
  const uint64_t g = without.drv->DeviceFeatures();
  EXPECT_FALSE(g & (1ull << kBalloonFeatureReporting));
  EXPECT_FALSE(g & (1ull << kBalloonFeatureDeflateOnOom));
  without.drv->Write32(VIRTIO_MMIO_QUEUE_SEL, 2);
  EXPECT_EQ(without.drv->Read32(VIRTIO_MMIO_QUEUE_NUM_MAX), 0u);  // no third queue
}

TEST(VirtioBalloonTest, ReportedFreeBlocksGoBackToTheHost) {
  Rig rig;
  rig.Start();
  rig.Fill(2 * kMiB, 4 * kMiB, 0xab);  // resident, as after the guest used it
  rig.reporting.AddChain({{2 * kMiB, 2 * kMiB, true}, {4 * kMiB + 4096, 8192, true}});
  rig.Kick(2);
  ASSERT_EQ(rig.reporting.used_idx(), 1);
  EXPECT_EQ(rig.reporting.used_elem(0).len, 0u);
  // No longer resident (checked before reading, which would map the zero page).
  std::vector<unsigned char> resident(512);
  ASSERT_EQ(mincore(rig.mem.Translate(2 * kMiB, 2 * kMiB)->data(), 2 * kMiB, resident.data()), 0);
  for (unsigned char r : resident) ASSERT_EQ(r & 1, 0);
  EXPECT_TRUE(rig.All(2 * kMiB, 2 * kMiB, 0));  // discarded: reads as zero
  EXPECT_TRUE(rig.All(4 * kMiB, 4096, 0xab));   // between the blocks: kept
  EXPECT_TRUE(rig.All(4 * kMiB + 4096, 8192, 0));
  EXPECT_TRUE(rig.All(4 * kMiB + 3 * 4096, 4096, 0xab));
  const auto c = rig.balloon->counters();
  EXPECT_EQ(c.reported_bytes, 2 * kMiB + 8192);
  EXPECT_EQ(c.discarded_bytes, 2 * kMiB + 8192);
  EXPECT_GE(rig.irq.count, 1);
}

TEST(VirtioBalloonTest, ReportingPunchesHolesInAMemfdBackedRegion) {
  Rig rig({}, MemoryRegion::Options{});  // shareable: a memfd, where MADV_DONTNEED would keep the data
  rig.Start();
  rig.Fill(2 * kMiB, 2 * kMiB, 0xcd);
  rig.reporting.AddChain({{2 * kMiB, 2 * kMiB, true}});
  rig.Kick(2);
  ASSERT_EQ(rig.reporting.used_idx(), 1);
  EXPECT_TRUE(rig.All(2 * kMiB, 2 * kMiB, 0));
  EXPECT_EQ(rig.balloon->counters().discarded_bytes, 2 * kMiB);
}

TEST(VirtioBalloonTest, ReportOutsideGuestRamFailsTheDeviceAndDiscardsNothing) {
  Rig rig;
  rig.Start();
  rig.Fill(2 * kMiB, 2 * kMiB, 0xab);
  // First buffer valid, second past the end of RAM: the whole chain is refused.
  rig.reporting.AddChain({{2 * kMiB, 2 * kMiB, true}, {7 * kMiB, 2 * kMiB, true}});
  rig.Kick(2);
  EXPECT_EQ(rig.reporting.used_idx(), 0);
  EXPECT_TRUE(rig.drv->Status() & kStatusNeedsReset);
  EXPECT_TRUE(rig.All(2 * kMiB, 2 * kMiB, 0xab));
  EXPECT_EQ(rig.balloon->counters().discarded_bytes, 0u);
}

TEST(VirtioBalloonTest, ReportCrossingTwoRegionsIsRefused) {
  Rig rig({}, Private(), /*split=*/true);
  rig.Start();
  rig.Fill(3 * kMiB, 1 * kMiB, 0xab);
  rig.Fill(4 * kMiB, 1 * kMiB, 0xab);
  rig.reporting.AddChain({{3 * kMiB, 2 * kMiB, true}});  // 3..5 MiB spans both regions
  rig.Kick(2);
  EXPECT_EQ(rig.reporting.used_idx(), 0);
  EXPECT_TRUE(rig.drv->Status() & kStatusNeedsReset);
  EXPECT_TRUE(rig.All(3 * kMiB, 1 * kMiB, 0xab));
  EXPECT_TRUE(rig.All(4 * kMiB, 1 * kMiB, 0xab));
}

TEST(VirtioBalloonTest, LoopingReportChainEndsWithAFailure) {
  Rig rig;
  rig.Start();
  rig.Fill(2 * kMiB, 4096, 0xab);
  // Descriptor 0 chains to itself forever.
  rig.reporting.WriteDesc(0, 2 * kMiB, 4096, kDescFlagNext | kDescFlagWrite, 0);
  rig.reporting.Publish(0);
  rig.Kick(2);
  EXPECT_EQ(rig.reporting.used_idx(), 0);
  EXPECT_TRUE(rig.drv->Status() & kStatusNeedsReset);
  EXPECT_TRUE(rig.All(2 * kMiB, 4096, 0xab));
}

TEST(VirtioBalloonTest, InflateDiscardsValidPagesAndSkipsOthers) {
  Rig rig;
  rig.Start();
  rig.Fill(1 * kMiB, 7 * kMiB, 0xab);
  // pfns: a run of three (0x200-0x202), one alone (0x300), one past RAM, the
  // last page of RAM.
  const std::vector<uint32_t> pfns{0x200, 0x201, 0x202, 0x300, 0x12345, 0x7ff};
  const uint64_t table = 0x8000;
  rig.mem.Write(table, {reinterpret_cast<const uint8_t*>(pfns.data()), pfns.size() * 4});
  rig.inflate.AddChain({{table, static_cast<uint32_t>(pfns.size() * 4), false}});
  rig.Kick(0);
  ASSERT_EQ(rig.inflate.used_idx(), 1);
  EXPECT_TRUE(rig.All(0x200000, 3 * 4096, 0));
  EXPECT_TRUE(rig.All(0x203000, 4096, 0xab));
  EXPECT_TRUE(rig.All(0x300000, 4096, 0));
  EXPECT_TRUE(rig.All(0x301000, 4096, 0xab));
  EXPECT_TRUE(rig.All(0x7ff000, 4096, 0));
  const auto c = rig.balloon->counters();
  EXPECT_EQ(c.inflated_pages, 6u);
  EXPECT_EQ(c.rejected, 1u);
  EXPECT_EQ(c.discarded_bytes, 5u * 4096);
  EXPECT_FALSE(rig.drv->Status() & kStatusNeedsReset);
}

TEST(VirtioBalloonTest, InflateIgnoresPfnsBeyondThePerChainCap) {
  Rig rig;
  rig.Start();
  rig.Fill(1 * kMiB, 7 * kMiB, 0xab);
  // A hostile guest's 6000 pfns (24 KiB of table): only the first 4096 count,
  // so page 0x100 (named 4096 times) goes and page 0x200 (after them) stays.
  std::vector<uint32_t> pfns(6000, 0x200);
  std::fill(pfns.begin(), pfns.begin() + VirtioBalloon::kMaxPfnsPerChain, 0x100);
  const uint64_t table = 0x10000;
  rig.mem.Write(table, {reinterpret_cast<const uint8_t*>(pfns.data()), pfns.size() * 4});
  rig.inflate.AddChain({{table, static_cast<uint32_t>(pfns.size() * 4), false}});
  rig.Kick(0);
  ASSERT_EQ(rig.inflate.used_idx(), 1);
  EXPECT_EQ(rig.balloon->counters().inflated_pages, VirtioBalloon::kMaxPfnsPerChain);
  EXPECT_TRUE(rig.All(0x100000, 4096, 0));
  EXPECT_TRUE(rig.All(0x200000, 4096, 0xab));
}

TEST(VirtioBalloonTest, TargetAndActualGoThroughConfigSpace) {
  Rig rig({16, false, true});
  rig.Start();
  EXPECT_EQ(rig.Config32(0), 16u * 256);  // num_pages
  EXPECT_EQ(rig.Config32(4), 0u);         // actual
  const uint32_t generation = rig.drv->Read32(VIRTIO_MMIO_CONFIG_GENERATION);
  const int irqs = rig.irq.count;
  rig.balloon->SetTarget(32);
  EXPECT_EQ(rig.Config32(0), 32u * 256);
  EXPECT_NE(rig.drv->Read32(VIRTIO_MMIO_CONFIG_GENERATION), generation);
  EXPECT_EQ(rig.irq.count, irqs + 1);
  EXPECT_TRUE(rig.drv->Read32(VIRTIO_MMIO_INTERRUPT_STATUS) & kInterruptConfigChange);
  rig.drv->Write32(0x100 + 4, 32u * 256);  // the driver reports what it gave away
  EXPECT_EQ(rig.balloon->actual_mib(), 32u);
  rig.drv->Write32(0x100 + 0, 1);  // num_pages is the device's: ignored
  EXPECT_EQ(rig.Config32(0), 32u * 256);
}

TEST(VirtioBalloonTest, DeflateCountsPagesAndTouchesNothing) {
  Rig rig;
  rig.Start();
  rig.Fill(1 * kMiB, 7 * kMiB, 0xab);
  const std::vector<uint32_t> pfns{0x200, 0x201};
  rig.mem.Write(0x8000, {reinterpret_cast<const uint8_t*>(pfns.data()), 8});
  rig.deflate.AddChain({{0x8000, 8, false}});
  rig.Kick(1);
  ASSERT_EQ(rig.deflate.used_idx(), 1);
  EXPECT_EQ(rig.balloon->counters().deflated_pages, 2u);
  EXPECT_TRUE(rig.All(0x200000, 2 * 4096, 0xab));
}

TEST(GuestRamDiscardTest, RefusesMemoryOutsideGuestRam) {
  GuestMemory mem;
  mem.AddRegion(MemoryRegion(0, 1 * kMiB, Private()));
  std::vector<uint8_t> host(3 * 4096, 0x5a);
  EXPECT_EQ(DiscardGuestRam(mem, host), 0u);
  for (uint8_t b : host) ASSERT_EQ(b, 0x5a);
  // A range that starts in guest RAM and runs past its end is refused too.
  auto tail = *mem.Translate(1 * kMiB - 4096, 4096);
  std::memset(tail.data(), 0x5a, 4096);
  EXPECT_EQ(DiscardGuestRam(mem, {tail.data(), 2 * 4096}), 0u);
  EXPECT_EQ(tail[0], 0x5a);
}

TEST(GuestRamDiscardTest, KeepsPartialPagesAtBothEnds) {
  GuestMemory mem;
  mem.AddRegion(MemoryRegion(0, 1 * kMiB, Private()));
  auto all = *mem.Translate(0, 1 * kMiB);
  std::memset(all.data(), 0x5a, all.size());
  // 100 bytes into page 1 .. 100 bytes into page 4: only pages 2 and 3 go.
  EXPECT_EQ(DiscardGuestRam(mem, all.subspan(4096 + 100, 3 * 4096)), 2u * 4096);
  EXPECT_EQ(all[4096 + 4095], 0x5a);
  EXPECT_EQ(all[2 * 4096], 0);
  EXPECT_EQ(all[3 * 4096 + 4095], 0);
  EXPECT_EQ(all[4 * 4096], 0x5a);
  EXPECT_EQ(DiscardGuestRam(mem, all.subspan(10, 100)), 0u);  // no whole page
}

}  // namespace
}  // namespace hull::vmm::virtio
