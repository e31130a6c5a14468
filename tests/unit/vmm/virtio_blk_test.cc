#include "devices/virtio/virtio_blk.h"

#include <gtest/gtest.h>
#include <linux/virtio_blk.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "devices/virtio/device_error.h"
#include "io/event_loop.h"
#include "virtio/mmio_transport.h"
#include "virtio_fake_driver.h"

namespace hull::vmm::virtio {
namespace {

using testing::FakeBuffer;

constexpr uint64_t kHdr = 0x10000;
constexpr uint64_t kBuf = 0x20000;
constexpr uint64_t kStatus = 0x30000;
constexpr uint64_t kFeatures = (1ull << kFeatureVersion1) | (1ull << kFeatureEventIdx) |
                               (1ull << kFeatureIndirectDesc) | (1ull << VIRTIO_BLK_F_FLUSH);

struct TempImage {
  explicit TempImage(size_t bytes) {
    char tmpl[] = "/tmp/hull-blk-test-XXXXXX";
    int fd = mkstemp(tmpl);
    path = tmpl;
    std::vector<uint8_t> content(bytes);
    for (size_t i = 0; i < bytes; ++i) content[i] = static_cast<uint8_t>(i / 512);  // sector number
    EXPECT_EQ(write(fd, content.data(), bytes), static_cast<ssize_t>(bytes));
    close(fd);
  }
  ~TempImage() { unlink(path.c_str()); }
  std::vector<uint8_t> Read(uint64_t offset, size_t n) const {
    std::ifstream f(path, std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    std::vector<uint8_t> out(n);
    f.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(n));
    return out;
  }
  std::string path;
};

class VirtioBlkTest : public ::testing::Test {
 protected:
  VirtioBlkTest() : image(64 * 512), q(mem, 0x1000, 16) { mem.AddRegion(MemoryRegion(0, 1 << 20)); }

  void Start(BlockOptions opts) {
    opts.path = image.path;
    blk = std::make_shared<VirtioBlock>(opts, loop);
    transport = std::make_unique<MmioTransport>(blk, mem, testing::Unowned(irq), testing::Unowned(loop), 0xd0001000, nullptr);
    drv = std::make_unique<testing::FakeMmioDriver>(*transport);
    ASSERT_TRUE(drv->Negotiate(kFeatures));
    drv->SetupQueue(0, q);
    drv->DriverOk();
    ASSERT_EQ(drv->Status(), 15u);
  }
  // Sends one request; returns the status byte once the device completed it.
  uint8_t Submit(uint32_t type, uint64_t sector, std::vector<FakeBuffer> data, uint32_t* used_len = nullptr) {
    struct {
      uint32_t type, reserved;
      uint64_t sector;
    } hdr{type, 0, sector};
    mem.WriteObj(kHdr, hdr);
    mem.WriteObj<uint8_t>(kStatus, 0xee);
    std::vector<FakeBuffer> chain{{kHdr, 16, false}};
    chain.insert(chain.end(), data.begin(), data.end());
    chain.push_back({kStatus, 1, true});
    const uint16_t before = q.used_idx();
    q.AddChain(chain);
    drv->Notify(0);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (q.used_idx() == before && std::chrono::steady_clock::now() < deadline) loop.RunOnce(100);
    EXPECT_EQ(q.used_idx(), before + 1) << "request never completed";
    if (used_len) *used_len = q.used_elem(before).len;
    return *mem.ReadObj<uint8_t>(kStatus);
  }

  TempImage image;
  GuestMemory mem;
  testing::FakeIrq irq;
  io::EventLoop loop;
  testing::FakeQueue q;
  std::shared_ptr<VirtioBlock> blk;
  std::unique_ptr<MmioTransport> transport;
  std::unique_ptr<testing::FakeMmioDriver> drv;
};

TEST_F(VirtioBlkTest, ConfigSpaceReportsCapacityInSectors) {
  Start({});
  uint64_t capacity = 0;
  transport->Read(0x100, {reinterpret_cast<uint8_t*>(&capacity), 8});
  EXPECT_EQ(capacity, 64u);
  EXPECT_FALSE(drv->DeviceFeatures() & (1ull << VIRTIO_BLK_F_RO));
}

TEST_F(VirtioBlkTest, ReadsSectorsAcrossSegments) {
  Start({});
  uint32_t len = 0;
  EXPECT_EQ(Submit(VIRTIO_BLK_T_IN, 3, {{kBuf, 512, true}, {kBuf + 0x1000, 1024, true}}, &len), VIRTIO_BLK_S_OK);
  EXPECT_EQ(len, 1537u);
  EXPECT_EQ(*mem.ReadObj<uint8_t>(kBuf), 3);
  EXPECT_EQ(*mem.ReadObj<uint8_t>(kBuf + 0x1000), 4);
  EXPECT_EQ(*mem.ReadObj<uint8_t>(kBuf + 0x1000 + 1023), 5);
  EXPECT_GE(irq.count, 1);
}

// seg_max is what a queue of kQueueSize can carry besides the header and
// status descriptors, as QEMU sets it: a 1 MiB read of 256 scattered pages
// then takes two requests, not three. A request with seg_max data segments
// is served; one the queue could not hold is refused.
TEST_F(VirtioBlkTest, SegMaxFillsTheQueueAndIsHonoured) {
  Start({});
  uint32_t seg_max = 0;
  transport->Read(0x100 + offsetof(virtio_blk_config, seg_max), {reinterpret_cast<uint8_t*>(&seg_max), 4});
  EXPECT_EQ(seg_max, VirtioBlock::kQueueSize - 2u);
  EXPECT_TRUE(drv->DeviceFeatures() & (1ull << VIRTIO_BLK_F_SEG_MAX));

  // Reads the whole 64-sector image into `count` segments (all of `size`
  // bytes but the last, which takes the rest) through an indirect table.
  auto read_in_segments = [&](uint32_t count, uint32_t size) {
    constexpr uint64_t kTable = 0x40000;
    std::vector<FakeBuffer> chain{{kHdr, 16, false}};
    for (uint32_t i = 0; i + 1 < count; ++i) chain.push_back({kBuf + uint64_t{size} * i, size, true});
    chain.push_back({kBuf + uint64_t{size} * (count - 1), 64 * 512 - size * (count - 1), true});
    chain.push_back({kStatus, 1, true});
    struct {
      uint32_t type, reserved;
      uint64_t sector;
    } hdr{VIRTIO_BLK_T_IN, 0, 0};
    mem.WriteObj(kHdr, hdr);
    mem.WriteObj<uint8_t>(kStatus, 0xee);
    const uint16_t before = q.used_idx();
    q.AddIndirectChain(kTable, chain);
    drv->Notify(0);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (q.used_idx() == before && std::chrono::steady_clock::now() < deadline) loop.RunOnce(100);
    EXPECT_EQ(q.used_idx(), before + 1) << "request never completed";
    return *mem.ReadObj<uint8_t>(kStatus);
  };
  EXPECT_EQ(read_in_segments(seg_max, 128), VIRTIO_BLK_S_OK);  // 253 x 128 + 384 bytes
  EXPECT_EQ(*mem.ReadObj<uint8_t>(kBuf + 32767), 63);  // the last sector's number
  EXPECT_EQ(read_in_segments(257, 127), VIRTIO_BLK_S_IOERR);  // 256 x 127 + 256: over what the queue holds
}

TEST_F(VirtioBlkTest, WritesReachTheFileAndFlushSucceeds) {
  Start({});
  std::vector<uint8_t> data(1024, 0xab);
  mem.Write(kBuf, data);
  EXPECT_EQ(Submit(VIRTIO_BLK_T_OUT, 10, {{kBuf, 1024, false}}), VIRTIO_BLK_S_OK);
  EXPECT_EQ(image.Read(10 * 512, 1024), data);
  EXPECT_EQ(image.Read(12 * 512, 1)[0], 12);  // neighbour untouched
  EXPECT_EQ(Submit(VIRTIO_BLK_T_FLUSH, 0, {}), VIRTIO_BLK_S_OK);
}

TEST_F(VirtioBlkTest, OutOfRangeAndPartialSectorsAreIoErrors) {
  Start({});
  EXPECT_EQ(Submit(VIRTIO_BLK_T_IN, 63, {{kBuf, 1024, true}}), VIRTIO_BLK_S_IOERR);  // runs past sector 64
  EXPECT_EQ(Submit(VIRTIO_BLK_T_IN, ~0ull, {{kBuf, 512, true}}), VIRTIO_BLK_S_IOERR);  // no overflow
  EXPECT_EQ(Submit(VIRTIO_BLK_T_IN, 0, {{kBuf, 100, true}}), VIRTIO_BLK_S_IOERR);    // not whole sectors
  EXPECT_EQ(Submit(VIRTIO_BLK_T_IN, 63, {{kBuf, 512, true}}), VIRTIO_BLK_S_OK);     // last sector is fine
  EXPECT_EQ(Submit(77, 0, {}), VIRTIO_BLK_S_UNSUPP);
}

TEST_F(VirtioBlkTest, ReadOnlyRefusesWritesAndAdvertisesRo) {
  BlockOptions o;
  o.read_only = true;
  Start(o);
  EXPECT_TRUE(drv->DeviceFeatures() & (1ull << VIRTIO_BLK_F_RO));
  EXPECT_EQ(Submit(VIRTIO_BLK_T_OUT, 0, {{kBuf, 512, false}}), VIRTIO_BLK_S_IOERR);
  EXPECT_EQ(image.Read(0, 1)[0], 0);
  EXPECT_EQ(Submit(VIRTIO_BLK_T_IN, 1, {{kBuf, 512, true}}), VIRTIO_BLK_S_OK);
}

TEST_F(VirtioBlkTest, GetIdReturnsTheSerial) {
  BlockOptions o;
  o.serial = "rootfs";
  Start(o);
  uint32_t len = 0;
  EXPECT_EQ(Submit(VIRTIO_BLK_T_GET_ID, 0, {{kBuf, 20, true}}, &len), VIRTIO_BLK_S_OK);
  char id[21] = {};
  mem.Read(kBuf, {reinterpret_cast<uint8_t*>(id), 20});
  EXPECT_STREQ(id, "rootfs");
  EXPECT_EQ(len, 21u);
}

TEST_F(VirtioBlkTest, WriteZeroesAndDiscard) {
  Start({});
  struct {
    uint64_t sector;
    uint32_t num, flags;
  } seg{4, 2, 0};
  mem.WriteObj(kBuf, seg);
  EXPECT_EQ(Submit(VIRTIO_BLK_T_WRITE_ZEROES, 0, {{kBuf, 16, false}}), VIRTIO_BLK_S_OK);
  EXPECT_EQ(image.Read(4 * 512, 1024), std::vector<uint8_t>(1024, 0));
  EXPECT_EQ(image.Read(6 * 512, 1)[0], 6);
  seg = {60, 10, 0};  // past the end
  mem.WriteObj(kBuf, seg);
  EXPECT_EQ(Submit(VIRTIO_BLK_T_DISCARD, 0, {{kBuf, 16, false}}), VIRTIO_BLK_S_IOERR);
}

TEST_F(VirtioBlkTest, DirectIoWithUnalignedGuestBuffersUsesABounceBuffer) {
  BlockOptions o;
  o.direct_io = true;
  o.path = image.path;
  try {
    Start(o);
  } catch (const DeviceError& e) {
    GTEST_SKIP() << "no O_DIRECT on this filesystem: " << e.what();
  }
  EXPECT_EQ(Submit(VIRTIO_BLK_T_IN, 7, {{kBuf + 3, 512, true}}), VIRTIO_BLK_S_OK);
  EXPECT_EQ(*mem.ReadObj<uint8_t>(kBuf + 3), 7);
  std::vector<uint8_t> data(512, 0x5a);
  mem.Write(kBuf + 5, data);
  EXPECT_EQ(Submit(VIRTIO_BLK_T_OUT, 9, {{kBuf + 5, 512, false}}), VIRTIO_BLK_S_OK);
  EXPECT_EQ(image.Read(9 * 512, 512), data);
}

TEST_F(VirtioBlkTest, ReplaceImageChangesCapacityAndRaisesConfigInterrupt) {
  Start({});
  TempImage bigger(128 * 512);
  blk->ReplaceImage(bigger.path);
  EXPECT_EQ(blk->capacity_sectors(), 128u);
  EXPECT_EQ(drv->Read32(0x0fc), 1u);  // config generation moved
  EXPECT_TRUE(drv->Read32(0x060) & kInterruptConfigChange);
  EXPECT_THROW(blk->ReplaceImage("/nonexistent/disk.img"), DeviceError);
  EXPECT_EQ(blk->capacity_sectors(), 128u);  // kept the working image
}

TEST(VirtioBlkOpenTest, MissingImageIsAClearError) {
  io::EventLoop loop;
  try {
    BlockOptions o;
    o.path = "/nonexistent/disk.img";
    VirtioBlock blk(o, loop);
    FAIL();
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/disk.img"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("path_on_host"), std::string::npos);
  }
}

TEST_F(VirtioBlkTest, RequestWithoutStatusByteFailsTheDevice) {
  Start({});
  q.AddChain({{kHdr, 16, false}});
  drv->Notify(0);
  loop.RunOnce(1000);
  EXPECT_TRUE(drv->Status() & kStatusNeedsReset);
}

}  // namespace
}  // namespace hull::vmm::virtio
