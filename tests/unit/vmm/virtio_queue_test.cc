#include "virtio/queue.h"
#include "virtio/ring_layout.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "virtio/virtio_error.h"
#include "virtio_fake_driver.h"

namespace hull::vmm::virtio {
namespace {

using testing::FakeBuffer;
using testing::FakeQueue;

constexpr uint64_t kRam = 1 << 20;
constexpr uint64_t kRings = 0x1000;
constexpr uint64_t kData = 0x10000;

class QueueTest : public ::testing::Test {
 protected:
  QueueTest() : fake(mem, kRings, 16), queue(16) { mem.AddRegion(MemoryRegion(0, kRam)); }
  void Activate(bool event_idx = false) {
    fake.Configure(queue);
    queue.Activate(mem, event_idx);
  }
  void ExpectPopThrows(const std::string& fragment) {
    try {
      queue.Pop();
      FAIL() << "expected VirtioError mentioning '" << fragment << "'";
    } catch (const VirtioError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  }

  GuestMemory mem;
  FakeQueue fake;
  Queue queue;
};

TEST_F(QueueTest, PopsAChainSplitIntoReadableAndWritable) {
  Activate();
  EXPECT_FALSE(queue.Pop().has_value());
  mem.WriteObj<uint32_t>(kData, 0x11223344);
  const uint16_t head = fake.AddChain({{kData, 4, false}, {kData + 0x100, 8, false}, {kData + 0x200, 512, true}});
  auto chain = queue.Pop();
  ASSERT_TRUE(chain.has_value());
  EXPECT_EQ(chain->head(), head);
  EXPECT_EQ(chain->readable().size(), 2u);
  EXPECT_EQ(chain->readable_bytes(), 12u);
  EXPECT_EQ(chain->writable_bytes(), 512u);
  uint32_t first = 0;
  EXPECT_EQ(chain->CopyFromReadable(0, {reinterpret_cast<uint8_t*>(&first), 4}), 4u);
  EXPECT_EQ(first, 0x11223344u);
  const char text[] = "hello";
  EXPECT_EQ(chain->CopyToWritable(3, {reinterpret_cast<const uint8_t*>(text), 5}), 5u);
  char back[6] = {};
  mem.Read(kData + 0x203, {reinterpret_cast<uint8_t*>(back), 5});
  EXPECT_STREQ(back, "hello");
  EXPECT_FALSE(queue.Pop().has_value());
}

TEST_F(QueueTest, CopiesAcrossDescriptorBoundaries) {
  Activate();
  fake.AddChain({{kData, 3, true}, {kData + 0x100, 3, true}});
  auto chain = queue.Pop();
  ASSERT_TRUE(chain);
  const uint8_t bytes[] = {1, 2, 3, 4, 5, 6, 7};
  EXPECT_EQ(chain->CopyToWritable(1, bytes), 5u);  // only 5 bytes fit after offset 1
  EXPECT_EQ(*mem.ReadObj<uint8_t>(kData + 1), 1);
  EXPECT_EQ(*mem.ReadObj<uint8_t>(kData + 0x100), 3);
  EXPECT_EQ(*mem.ReadObj<uint8_t>(kData + 0x102), 5);
}

TEST_F(QueueTest, UsedRingGetsEntriesAndIndex) {
  Activate();
  const uint16_t head = fake.AddChain({{kData, 16, true}});
  auto chain = queue.Pop();
  ASSERT_TRUE(chain);
  queue.AddUsed(chain->head(), 7);
  EXPECT_EQ(fake.used_idx(), 1);
  EXPECT_EQ(fake.used_elem(0).id, head);
  EXPECT_EQ(fake.used_elem(0).len, 7u);
}

TEST_F(QueueTest, IndirectTable) {
  Activate();
  mem.WriteObj<uint64_t>(kData, 42);
  fake.AddIndirectChain(kData + 0x800, {{kData, 8, false}, {kData + 0x100, 64, true}, {kData + 0x200, 1, true}});
  auto chain = queue.Pop();
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->readable_bytes(), 8u);
  EXPECT_EQ(chain->writable_bytes(), 65u);
  EXPECT_EQ(chain->writable().size(), 2u);
}

TEST_F(QueueTest, SixteenBitIndicesWrapAround) {
  Activate();
  // Start both sides near the 16-bit wrap: the driver's idx and ours agree.
  fake.SetAvailIdx(0);
  for (int round = 0; round < 70000; round += 1) {
    fake.AddChain({{kData, 4, true}});
    auto chain = queue.Pop();
    ASSERT_TRUE(chain) << "round " << round;
    queue.AddUsed(chain->head(), 4);
    if (round > 65540) break;  // well past one wrap of both indices
  }
  EXPECT_EQ(queue.next_avail(), fake.used_idx());
  EXPECT_LT(queue.next_avail(), 16);  // wrapped
  EXPECT_FALSE(queue.Pop().has_value());
}

TEST_F(QueueTest, EventIdxSuppressesInterruptsUntilUsedEventIsPassed) {
  Activate(/*event_idx=*/true);
  fake.SetUsedEvent(0);
  for (int i = 0; i < 3; ++i) fake.AddChain({{kData + 0x100ull * i, 4, true}});
  auto c0 = queue.Pop();
  queue.AddUsed(c0->head(), 0);
  EXPECT_TRUE(queue.NeedsInterrupt());  // first report always signals
  fake.SetUsedEvent(2);                 // "interrupt me after entry 2"
  auto c1 = queue.Pop();
  queue.AddUsed(c1->head(), 0);
  EXPECT_FALSE(queue.NeedsInterrupt());  // used idx 2: not past used_event 2
  auto c2 = queue.Pop();
  queue.AddUsed(c2->head(), 0);
  EXPECT_TRUE(queue.NeedsInterrupt());  // used idx 3 passes 2
  EXPECT_FALSE(queue.NeedsInterrupt());  // nothing new since
}

TEST_F(QueueTest, EventIdxPublishesAvailEventAndRechecks) {
  Activate(true);
  fake.AddChain({{kData, 4, true}});
  ASSERT_TRUE(queue.Pop());
  EXPECT_FALSE(queue.EnableNotification());
  EXPECT_EQ(fake.avail_event(), 1);
  fake.AddChain({{kData, 4, true}});
  EXPECT_TRUE(queue.EnableNotification());  // arrived meanwhile: keep going
}

TEST_F(QueueTest, NoInterruptFlagWithoutEventIdx) {
  Activate(false);
  fake.AddChain({{kData, 4, true}});
  auto c = queue.Pop();
  queue.AddUsed(c->head(), 0);
  fake.SetAvailFlags(virtio::kAvailFlagNoInterrupt);
  EXPECT_FALSE(queue.NeedsInterrupt());
  fake.SetAvailFlags(0);
  EXPECT_TRUE(queue.NeedsInterrupt());
}

// ---- hostile drivers ----

TEST_F(QueueTest, RejectsBufferOutsideGuestRam) {
  Activate();
  fake.AddChain({{kRam - 8, 16, false}});
  ExpectPopThrows("outside guest RAM");
}

TEST_F(QueueTest, RejectsHugeLengthWithoutOverflow) {
  Activate();
  fake.AddChain({{kData, 0xffffffff, true}});
  ExpectPopThrows("outside guest RAM");
}

TEST_F(QueueTest, RejectsALoopingChain) {
  Activate();
  fake.WriteDesc(0, kData, 4, virtio::kDescFlagNext, 1);
  fake.WriteDesc(1, kData, 4, virtio::kDescFlagNext, 0);  // back to 0: a cycle
  fake.Publish(0);
  ExpectPopThrows("longer than the queue size");
}

TEST_F(QueueTest, RejectsZeroLength) {
  Activate();
  fake.AddChain({{kData, 0, false}});
  ExpectPopThrows("length 0");
}

TEST_F(QueueTest, RejectsNextBeyondTheTable) {
  Activate();
  fake.WriteDesc(0, kData, 4, virtio::kDescFlagNext, 16);
  fake.Publish(0);
  ExpectPopThrows("beyond the queue size");
}

TEST_F(QueueTest, RejectsHeadBeyondTheTable) {
  Activate();
  fake.Publish(200);
  ExpectPopThrows("beyond the queue size");
}

TEST_F(QueueTest, RejectsAvailIndexRunningAhead) {
  Activate();
  fake.SetAvailIdx(17);  // 17 new entries in a 16-entry ring
  ExpectPopThrows("more than the queue size");
}

TEST_F(QueueTest, RejectsIndirectInsideIndirect) {
  Activate();
  fake.WriteDescAt(kData + 0x800, kData + 0x900, 16, virtio::kDescFlagIndirect, 0);
  fake.WriteDesc(0, kData + 0x800, 16, virtio::kDescFlagIndirect, 0);
  fake.Publish(0);
  ExpectPopThrows("indirect descriptor inside an indirect table");
}

TEST_F(QueueTest, RejectsLoopInsideIndirectTable) {
  Activate();
  fake.WriteDescAt(kData + 0x800, kData, 4, virtio::kDescFlagNext, 1);
  fake.WriteDescAt(kData + 0x810, kData, 4, virtio::kDescFlagNext, 0);
  fake.WriteDesc(0, kData + 0x800, 32, virtio::kDescFlagIndirect, 0);
  fake.Publish(0);
  ExpectPopThrows("longer than its table");
}

TEST_F(QueueTest, RejectsBadIndirectTableLengths) {
  Activate();
  fake.WriteDesc(0, kData + 0x800, 24, virtio::kDescFlagIndirect, 0);  // not a multiple of 16
  fake.Publish(0);
  ExpectPopThrows("not a multiple of 16");
  Activate();  // starts again at avail entry 0, which names descriptor 0
  fake.WriteDesc(0, kRam - 16, 32, virtio::kDescFlagIndirect, 0);  // table leaves RAM
  ExpectPopThrows("outside guest RAM");
}

TEST_F(QueueTest, RejectsReadableAfterWritable) {
  Activate();
  fake.AddChain({{kData, 4, true}, {kData + 0x10, 4, false}});
  ExpectPopThrows("follows a device-writable");
}

TEST_F(QueueTest, ActivateChecksSizeAndRingPlacement) {
  fake.Configure(queue);
  queue.size = 12;  // not a power of two
  EXPECT_THROW(queue.Activate(mem, false), VirtioError);
  fake.Configure(queue);
  queue.size = 32;  // above the device maximum
  EXPECT_THROW(queue.Activate(mem, false), VirtioError);
  fake.Configure(queue);
  queue.used_addr = kRam - 8;  // used ring runs off the end of RAM
  EXPECT_THROW(queue.Activate(mem, false), VirtioError);
  fake.Configure(queue);
  queue.desc_addr = kRings + 8;  // misaligned
  EXPECT_THROW(queue.Activate(mem, false), VirtioError);
  fake.Configure(queue);
  EXPECT_NO_THROW(queue.Activate(mem, false));
}

TEST(QueueCtorTest, DeviceQueueSizeMustBePowerOfTwo) {
  EXPECT_THROW(Queue(0), VirtioError);
  EXPECT_THROW(Queue(100), VirtioError);
  EXPECT_NO_THROW(Queue(256));
}

}  // namespace
}  // namespace hull::vmm::virtio
