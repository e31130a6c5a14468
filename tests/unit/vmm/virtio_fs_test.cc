// virtio-fs as the guest driver sees it: the device behind the virtio-mmio
// transport, FUSE requests in descriptor chains of fake guest memory.
#include "devices/virtio/virtio_fs.h"

#include <gtest/gtest.h>
#include <linux/fuse.h>

#include <chrono>
#include <cstring>
#include <filesystem>

#include "devices/virtio/device_error.h"
#include "devices/virtio/virtio_fs_set.h"
#include "fuse_test_client.h"
#include "io/event_loop.h"
#include "virtio/mmio_transport.h"
#include "virtio_fake_driver.h"

namespace hull::vmm::virtio {
namespace {

using fuse::testing::AsBytes;
using fuse::testing::Cat;
using fuse::testing::Cstr;
using fuse::testing::TempTree;
using testing::FakeBuffer;

constexpr uint64_t kFeatures = (1ull << kFeatureVersion1) | (1ull << kFeatureEventIdx) | (1ull << kFeatureIndirectDesc);
constexpr uint64_t kReq = 0x100000;
constexpr uint64_t kReply = 0x300000;
constexpr uint64_t kMemSize = 4 << 20;

class VirtioFsTest : public ::testing::Test {
 protected:
  VirtioFsTest() : hiprio(mem, 0x1000, 16), requests(mem, 0x20000, 16) {
    mem.AddRegion(MemoryRegion(0, kMemSize));
    TempTree::Write(tree.share + "/hello", "hello over virtio-fs");
  }

  void Start(bool read_only = false) {
    FsDeviceOptions o;
    o.tag = "share";
    o.fs.path = tree.share;
    o.fs.read_only = read_only;
    fs = std::make_shared<VirtioFs>(o);
    transport = std::make_unique<MmioTransport>(fs, mem, testing::Unowned(irq), testing::Unowned(loop), 0xd0001000, nullptr);
    drv = std::make_unique<testing::FakeMmioDriver>(*transport);
    ASSERT_TRUE(drv->Negotiate(kFeatures));
    drv->SetupQueue(0, hiprio);
    drv->SetupQueue(1, requests);
    drv->DriverOk();
    ASSERT_EQ(drv->Status(), 15u);
  }

  // Puts `request` at kReq and a chain [request (readable), reply
  // (`reply_len` writable)] on `queue`; returns the used length and the reply.
  std::pair<uint32_t, std::vector<uint8_t>> Send(testing::FakeQueue& q, uint32_t index,
                                                 const std::vector<uint8_t>& request, uint32_t reply_len,
                                                 uint32_t readable_len = 0) {
    mem.Write(kReq, request);
    std::vector<uint8_t> poison(reply_len, 0xee);
    mem.Write(kReply, poison);
    std::vector<FakeBuffer> chain{{kReq, readable_len ? readable_len : static_cast<uint32_t>(request.size()), false}};
    if (reply_len) chain.push_back({kReply, reply_len, true});
    const uint16_t before = q.used_idx();
    q.AddChain(chain);
    drv->Notify(index);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (q.used_idx() == before && std::chrono::steady_clock::now() < deadline) loop.RunOnce(100);
    EXPECT_EQ(q.used_idx(), before + 1) << "request never completed";
    const uint32_t used = q.used_elem(before).len;
    std::vector<uint8_t> reply(reply_len);
    mem.Read(kReply, reply);
    return {used, reply};
  }
  std::vector<uint8_t> Request(uint32_t opcode, uint64_t nodeid, const std::vector<uint8_t>& body) {
    fuse_in_header in{};
    in.len = static_cast<uint32_t>(sizeof in + body.size());
    in.opcode = opcode;
    in.unique = ++unique;
    in.nodeid = nodeid;
    return Cat({AsBytes(in), body});
  }
  static fuse_out_header Header(const std::vector<uint8_t>& reply) {
    fuse_out_header h{};
    std::memcpy(&h, reply.data(), sizeof h);
    return h;
  }
  void Init() {
    fuse_init_in init{};
    init.major = 7;
    init.minor = 37;
    init.flags = FUSE_MAX_PAGES | FUSE_BIG_WRITES;
    auto [used, reply] = Send(requests, 1, Request(FUSE_INIT, 0, AsBytes(init)), 4096);
    ASSERT_EQ(used, sizeof(fuse_out_header) + sizeof(fuse_init_out));
    ASSERT_EQ(Header(reply).error, 0);
  }

  TempTree tree;
  GuestMemory mem;
  testing::FakeIrq irq;
  io::EventLoop loop;
  testing::FakeQueue hiprio;
  testing::FakeQueue requests;
  std::shared_ptr<VirtioFs> fs;
  std::unique_ptr<MmioTransport> transport;
  std::unique_ptr<testing::FakeMmioDriver> drv;
  uint64_t unique = 0;
};

TEST_F(VirtioFsTest, IdentifiesAsVirtioFsWithItsTagAndOneRequestQueue) {
  Start();
  EXPECT_EQ(drv->Read32(VIRTIO_MMIO_DEVICE_ID), kDeviceTypeFs);
  char tag[36] = {};
  transport->Read(0x100, {reinterpret_cast<uint8_t*>(tag), 36});
  EXPECT_EQ(std::string(tag, strnlen(tag, 36)), "share");
  uint32_t queues = 0;
  transport->Read(0x100 + 36, {reinterpret_cast<uint8_t*>(&queues), 4});
  EXPECT_EQ(queues, 1u);
  drv->Write32(VIRTIO_MMIO_QUEUE_SEL, 1);
  EXPECT_EQ(drv->Read32(VIRTIO_MMIO_QUEUE_NUM_MAX), VirtioFs::kQueueSize);
}

TEST_F(VirtioFsTest, BadTagsAndMissingDirectoriesAreClearErrors) {
  FsDeviceOptions o;
  o.fs.path = tree.share;
  o.tag = "";
  EXPECT_THROW(VirtioFs{o}, DeviceError);
  o.tag = std::string(37, 't');
  EXPECT_THROW(VirtioFs{o}, DeviceError);
  o.tag = "ok";
  o.fs.path = tree.root + "/missing";
  try {
    VirtioFs device(o);
    FAIL() << "a missing directory was accepted";
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
  }
  EXPECT_THROW(CheckFsSet({{"a", tree.share, false}, {"a", tree.share, true}}), DeviceError);
}

TEST_F(VirtioFsTest, LookupOpenReadThroughTheRequestQueue) {
  Start();
  Init();
  auto [lu, lookup] = Send(requests, 1, Request(FUSE_LOOKUP, fuse::kRootNodeId, Cstr("hello")), 4096);
  ASSERT_EQ(lu, sizeof(fuse_out_header) + sizeof(fuse_entry_out));
  fuse_entry_out e{};
  std::memcpy(&e, lookup.data() + sizeof(fuse_out_header), sizeof e);
  EXPECT_EQ(e.attr.size, 20u);
  auto [ou, open] = Send(requests, 1, Request(FUSE_OPEN, e.nodeid, AsBytes(fuse_open_in{})), 4096);
  ASSERT_EQ(Header(open).error, 0);
  fuse_open_out oo{};
  std::memcpy(&oo, open.data() + sizeof(fuse_out_header), sizeof oo);
  fuse_read_in rd{};
  rd.fh = oo.fh;
  rd.size = 4096;
  auto [ru, read] = Send(requests, 1, Request(FUSE_READ, e.nodeid, AsBytes(rd)), 4096);
  ASSERT_EQ(ru, sizeof(fuse_out_header) + 20);
  EXPECT_EQ(std::string(read.begin() + sizeof(fuse_out_header), read.begin() + ru), "hello over virtio-fs");
  EXPECT_GT(irq.count.load(), 0);
}

TEST_F(VirtioFsTest, ReadLandsInScatteredBuffersAndNeverBeyondThem) {
  Start();
  Init();
  std::string content(10000, 'r');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + i % 26);
  TempTree::Write(tree.share + "/big", content);
  auto [lu, lookup] = Send(requests, 1, Request(FUSE_LOOKUP, fuse::kRootNodeId, Cstr("big")), 4096);
  fuse_entry_out e{};
  std::memcpy(&e, lookup.data() + sizeof(fuse_out_header), sizeof e);
  auto [ou, open] = Send(requests, 1, Request(FUSE_OPEN, e.nodeid, AsBytes(fuse_open_in{})), 4096);
  fuse_open_out oo{};
  std::memcpy(&oo, open.data() + sizeof(fuse_out_header), sizeof oo);
  fuse_read_in rd{};
  rd.fh = oo.fh;
  rd.offset = 100;
  rd.size = 8192;
  // Writable part: 10 bytes (the header straddles it), 3000 bytes, then
  // 1000 bytes: 4010 in all, less than asked for. A guard byte follows each.
  const uint64_t a = kReply, b = kReply + 0x10000, c = kReply + 0x20000;
  for (uint64_t at : {a + 10, b + 3000, c + 1000}) mem.WriteObj<uint8_t>(at, 0xee);
  mem.Write(kReq, Request(FUSE_READ, e.nodeid, AsBytes(rd)));
  const uint16_t before = requests.used_idx();
  requests.AddChain({{kReq, static_cast<uint32_t>(sizeof(fuse_in_header) + sizeof rd), false},
                     {a, 10, true}, {b, 3000, true}, {c, 1000, true}});
  drv->Notify(1);
  for (int i = 0; i < 50 && requests.used_idx() == before; ++i) loop.RunOnce(100);
  ASSERT_EQ(requests.used_idx(), before + 1);
  EXPECT_EQ(requests.used_elem(before).len, 4010u);
  std::vector<uint8_t> head(10), mid(3000), tail(1000);
  mem.Read(a, head);
  mem.Read(b, mid);
  mem.Read(c, tail);
  fuse_out_header h{};
  std::vector<uint8_t> joined = Cat({head, mid, tail});
  std::memcpy(&h, joined.data(), sizeof h);
  EXPECT_EQ(h.len, 4010u);
  EXPECT_EQ(h.error, 0);
  EXPECT_EQ(h.unique, unique);
  EXPECT_EQ(std::string(joined.begin() + sizeof h, joined.end()), content.substr(100, 4010 - sizeof h));
  for (uint64_t at : {a + 10, b + 3000, c + 1000}) EXPECT_EQ(*mem.ReadObj<uint8_t>(at), 0xee) << "wrote past a buffer";
  // A bad handle: only an error header.
  rd.fh = 999;
  auto [bu, bad] = Send(requests, 1, Request(FUSE_READ, e.nodeid, AsBytes(rd)), 4096);
  EXPECT_EQ(bu, sizeof(fuse_out_header));
  EXPECT_EQ(Header(bad).error, -EBADF);
}

TEST_F(VirtioFsTest, ForgetOnTheHiprioQueueIsUsedWithoutAReply) {
  Start();
  Init();
  auto [lu, lookup] = Send(requests, 1, Request(FUSE_LOOKUP, fuse::kRootNodeId, Cstr("hello")), 4096);
  fuse_entry_out e{};
  std::memcpy(&e, lookup.data() + sizeof(fuse_out_header), sizeof e);
  fuse_forget_in f{};
  f.nlookup = 1;
  auto [used, reply] = Send(hiprio, 0, Request(FUSE_FORGET, e.nodeid, AsBytes(f)), 0);
  EXPECT_EQ(used, 0u);
  auto [gu, getattr] = Send(requests, 1, Request(FUSE_GETATTR, e.nodeid, AsBytes(fuse_getattr_in{})), 4096);
  EXPECT_EQ(Header(getattr).error, -ESTALE);
}

TEST_F(VirtioFsTest, OversizedRequestIsRefusedWithoutBeingServed) {
  Start();
  Init();
  // A WRITE chain longer than kMaxRequestBytes (its header says so too).
  const uint32_t too_long = static_cast<uint32_t>(fuse::kMaxRequestBytes + 4096);
  std::vector<uint8_t> request = Request(FUSE_WRITE, fuse::kRootNodeId, std::vector<uint8_t>(too_long - sizeof(fuse_in_header)));
  auto [used, reply] = Send(requests, 1, request, 64);
  EXPECT_EQ(used, sizeof(fuse_out_header));
  EXPECT_EQ(Header(reply).error, -EINVAL);
  EXPECT_EQ(Header(reply).unique, unique);
}

TEST_F(VirtioFsTest, TheReplyStaysInsideTheWritableBuffers) {
  Start();
  Init();
  // An entry reply (144 bytes) into 20 writable bytes: an error header,
  // and the 4 bytes after it untouched.
  auto [used, reply] = Send(requests, 1, Request(FUSE_LOOKUP, fuse::kRootNodeId, Cstr("hello")), 20);
  EXPECT_EQ(used, sizeof(fuse_out_header));
  EXPECT_EQ(Header(reply).error, -ERANGE);
  EXPECT_EQ(reply[16], 0xee);
  // No writable part at all: used with 0 bytes, nothing written.
  auto [u0, r0] = Send(requests, 1, Request(FUSE_GETATTR, fuse::kRootNodeId, AsBytes(fuse_getattr_in{})), 0);
  EXPECT_EQ(u0, 0u);
}

TEST_F(VirtioFsTest, AResetForgetsTheSessionAndNeedsANewInit) {
  Start();
  Init();
  Send(requests, 1, Request(FUSE_LOOKUP, fuse::kRootNodeId, Cstr("hello")), 4096);
  drv->Write32(VIRTIO_MMIO_STATUS, 0);
  ASSERT_TRUE(drv->Negotiate(kFeatures));
  testing::FakeQueue fresh_requests(mem, 0x40000, 16);
  testing::FakeQueue fresh_hiprio(mem, 0x60000, 16);
  drv->SetupQueue(0, fresh_hiprio);
  drv->SetupQueue(1, fresh_requests);
  drv->DriverOk();
  auto [used, reply] = Send(fresh_requests, 1, Request(FUSE_GETATTR, fuse::kRootNodeId, AsBytes(fuse_getattr_in{})), 4096);
  EXPECT_EQ(Header(reply).error, -EIO) << "requests before INIT after a reset must be refused";
}

TEST_F(VirtioFsTest, ReadOnlyShareThroughTheDevice) {
  Start(/*read_only=*/true);
  Init();
  fuse_mkdir_in m{};
  m.mode = 0755;
  auto [used, reply] = Send(requests, 1, Request(FUSE_MKDIR, fuse::kRootNodeId, Cat({AsBytes(m), Cstr("d")})), 4096);
  EXPECT_EQ(Header(reply).error, -EROFS);
  EXPECT_FALSE(std::filesystem::exists(tree.share + "/d"));
}

}  // namespace
}  // namespace hull::vmm::virtio

TEST(VirtioFsFileLimitTest, InodesAndHandlesFitInTheOpenFileLimit) {
  const hull::vmm::fuse::FsOptions defaults{"/share", false};
  // 1024 fds (a shell's default): a quarter for inodes, an eighth for handles.
  const auto small = hull::vmm::virtio::FsOptionsWithinFileLimit(defaults, 1024);
  EXPECT_EQ(small.max_inodes, 256u);
  EXPECT_EQ(small.max_handles, 128u);
  EXPECT_EQ(small.path, "/share");
  // A large limit keeps the share's own bounds.
  const auto large = hull::vmm::virtio::FsOptionsWithinFileLimit(defaults, uint64_t{1} << 40);
  EXPECT_EQ(large.max_inodes, defaults.max_inodes);
  EXPECT_EQ(large.max_handles, defaults.max_handles);
  // A tiny one still lets the share open (and answer ENFILE beyond it).
  const auto tiny = hull::vmm::virtio::FsOptionsWithinFileLimit(defaults, 3);
  EXPECT_EQ(tiny.max_inodes, 1u);
  EXPECT_EQ(tiny.max_handles, 1u);
}
