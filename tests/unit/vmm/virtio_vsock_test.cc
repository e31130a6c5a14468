#include "devices/virtio/virtio_vsock.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "devices/virtio/device_error.h"
#include "io/event_loop.h"
#include "io/unix_socket.h"
#include "virtio/mmio_transport.h"
#include "virtio_fake_driver.h"

namespace hull::vmm::virtio {
namespace {

using vsock::Header;

constexpr uint64_t kCid = 42;
constexpr uint64_t kFeatures = (1ull << kFeatureVersion1) | (1ull << kFeatureEventIdx);
constexpr uint64_t kRxBufs = 0x40000;  // 64 rx buffers of 8 KiB
constexpr uint64_t kTxBuf = 0xc0000;
constexpr uint32_t kRxBufSize = 8192;

struct Packet {
  Header h;
  std::string data;
};

class VirtioVsockTest : public ::testing::Test {
 protected:
  VirtioVsockTest() : rxq(mem, 0x1000, 64), txq(mem, 0x3000, 64), evq(mem, 0x5000, 64) {
    mem.AddRegion(MemoryRegion(0, 1 << 20));
    char tmpl[] = "/tmp/hull-vsock-XXXXXX";
    dir = mkdtemp(tmpl);
    uds = dir + "/v.sock";
  }
  ~VirtioVsockTest() override {
    transport.reset();
    dev.reset();
    for (auto p : {uds, uds + "_52", uds + "_53"}) unlink(p.c_str());
    rmdir(dir.c_str());
  }

  void Start() {
    dev = std::make_shared<VirtioVsock>(VsockOptions{kCid, uds}, loop);
    transport = std::make_unique<MmioTransport>(dev, mem, testing::Unowned(irq), testing::Unowned(loop), 0xd0002000, nullptr);
    drv = std::make_unique<testing::FakeMmioDriver>(*transport);
    ASSERT_TRUE(drv->Negotiate(kFeatures));
    drv->SetupQueue(0, rxq);
    drv->SetupQueue(1, txq);
    drv->SetupQueue(2, evq);
    drv->DriverOk();
    ASSERT_EQ(drv->Status(), 15u);
    PostRxBuffers(32);
  }
  void PostRxBuffers(int n) {
    for (int i = 0; i < n; ++i) {
      rxq.AddChain({{kRxBufs + uint64_t{kRxBufSize} * (next_rx_buf_++ % 64), kRxBufSize, true}});
    }
    drv->Notify(0);
    Pump();
  }
  void Pump() {
    while (loop.RunOnce(20) > 0) {
    }
  }
  bool RunUntil(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      loop.RunOnce(20);
    }
    return true;
  }
  // Guest -> host packet through the tx queue.
  void GuestSend(uint16_t op, uint32_t src_port, uint32_t dst_port, const std::string& data = "",
                 uint32_t buf_alloc = 1 << 20, uint32_t fwd_cnt = 0, uint32_t flags = 0, uint64_t src_cid = kCid) {
    Header h{};
    h.src_cid = src_cid;
    h.dst_cid = 2;
    h.src_port = src_port;
    h.dst_port = dst_port;
    h.len = static_cast<uint32_t>(data.size());
    h.type = vsock::kTypeStream;
    h.op = op;
    h.flags = flags;
    h.buf_alloc = buf_alloc;
    h.fwd_cnt = fwd_cnt;
    const uint64_t at = kTxBuf + 0x10000 * (next_tx_++ % 4);
    mem.WriteObj(at, h);
    std::vector<testing::FakeBuffer> chain{{at, sizeof h, false}};
    if (!data.empty()) {
      mem.Write(at + 0x100, {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
      chain.push_back({at + 0x100, static_cast<uint32_t>(data.size()), false});
    }
    txq.AddChain(chain);
    drv->Notify(1);
    Pump();
  }
  // Packets the device put into the rx queue since the last call.
  std::vector<Packet> GuestReceive() {
    std::vector<Packet> out;
    while (rx_seen_ != rxq.used_idx()) {
      auto e = rxq.used_elem(rx_seen_++);
      const uint64_t at = kRxBufs + uint64_t{kRxBufSize} * e.id;  // one buffer per descriptor, ids 0..63
      Packet p;
      p.h = *mem.ReadObj<Header>(at);
      EXPECT_EQ(e.len, sizeof(Header) + p.h.len);
      p.data.resize(p.h.len);
      mem.Read(at + sizeof(Header), {reinterpret_cast<uint8_t*>(p.data.data()), p.data.size()});
      out.push_back(p);
    }
    return out;
  }
  std::vector<Packet> WaitGuestReceive(size_t at_least = 1) {
    std::vector<Packet> got;
    RunUntil([&] {
      auto more = GuestReceive();
      got.insert(got.end(), more.begin(), more.end());
      return got.size() >= at_least;
    });
    return got;
  }
  static std::string HostRead(int fd, size_t want) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (out.size() < want && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      char buf[4096];
      ssize_t n = recv(fd, buf, std::min(sizeof buf, want - out.size()), MSG_DONTWAIT);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // Host-initiated stream to guest port `port`, accepted by the fake guest.
  io::UniqueFd HostConnect(uint32_t port, uint32_t* host_port, uint32_t guest_buf_alloc = 1 << 20) {
    io::UniqueFd fd = io::ConnectUnix(uds);
    EXPECT_TRUE(fd.valid());
    const std::string line = "CONNECT " + std::to_string(port) + "\n";
    EXPECT_EQ(send(fd.get(), line.data(), line.size(), 0), static_cast<ssize_t>(line.size()));
    auto req = WaitGuestReceive();
    EXPECT_EQ(req.size(), 1u);
    if (req.empty()) return fd;
    EXPECT_EQ(req[0].h.op, vsock::kOpRequest);
    EXPECT_EQ(req[0].h.src_cid, 2u);
    EXPECT_EQ(req[0].h.dst_cid, kCid);
    EXPECT_EQ(req[0].h.dst_port, port);
    *host_port = req[0].h.src_port;
    GuestSend(vsock::kOpResponse, port, *host_port, "", guest_buf_alloc);
    const std::string ok = HostRead(fd.get(), 3 + std::to_string(*host_port).size() + 1);
    EXPECT_EQ(ok, "OK " + std::to_string(*host_port) + "\n");
    return fd;
  }

  GuestMemory mem;
  testing::FakeIrq irq;
  io::EventLoop loop;
  testing::FakeQueue rxq, txq, evq;
  std::string dir, uds;
  std::shared_ptr<VirtioVsock> dev;
  std::unique_ptr<MmioTransport> transport;
  std::unique_ptr<testing::FakeMmioDriver> drv;
  uint16_t rx_seen_ = 0;
  int next_rx_buf_ = 0;
  int next_tx_ = 0;
};

TEST_F(VirtioVsockTest, ConfigSpaceHoldsTheGuestCid) {
  Start();
  uint64_t cid = 0;
  transport->Read(0x100, {reinterpret_cast<uint8_t*>(&cid), 8});
  EXPECT_EQ(cid, kCid);
  EXPECT_EQ(drv->Read32(0x008), kDeviceTypeVsock);
}

TEST_F(VirtioVsockTest, HostInitiatedStreamCarriesDataBothWays) {
  Start();
  uint32_t host_port = 0;
  io::UniqueFd fd = HostConnect(1024, &host_port);
  EXPECT_GE(host_port, VirtioVsock::kFirstHostPort);
  ASSERT_EQ(send(fd.get(), "ping", 4, 0), 4);
  auto pkts = WaitGuestReceive();
  ASSERT_EQ(pkts.size(), 1u);
  EXPECT_EQ(pkts[0].h.op, vsock::kOpRw);
  EXPECT_EQ(pkts[0].data, "ping");
  EXPECT_EQ(pkts[0].h.buf_alloc, VirtioVsock::kBufAlloc);
  GuestSend(vsock::kOpRw, 1024, host_port, "pong");
  EXPECT_EQ(HostRead(fd.get(), 4), "pong");
  EXPECT_EQ(dev->connection_count(), 1u);
}

TEST_F(VirtioVsockTest, GuestInitiatedStreamReachesUdsUnderscorePort) {
  Start();
  io::UniqueFd listener = io::ListenUnix(uds + "_52");
  GuestSend(vsock::kOpRequest, 5000, 52);
  auto pkts = WaitGuestReceive();
  ASSERT_EQ(pkts.size(), 1u);
  EXPECT_EQ(pkts[0].h.op, vsock::kOpResponse);
  EXPECT_EQ(pkts[0].h.src_port, 52u);
  EXPECT_EQ(pkts[0].h.dst_port, 5000u);
  pollfd p{listener.get(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 1000), 1);
  io::UniqueFd host(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(host.valid());
  GuestSend(vsock::kOpRw, 5000, 52, "hello host");
  EXPECT_EQ(HostRead(host.get(), 10), "hello host");
  ASSERT_EQ(send(host.get(), "hi", 2, 0), 2);
  pkts = WaitGuestReceive();
  ASSERT_EQ(pkts.size(), 1u);
  EXPECT_EQ(pkts[0].data, "hi");
  EXPECT_EQ(pkts[0].h.fwd_cnt, 10u);  // our header reports what reached the host
  // Guest closes: both shutdown flags -> the device answers RST, host sees EOF.
  GuestSend(vsock::kOpShutdown, 5000, 52, "", 1 << 20, 2, vsock::kShutdownReceive | vsock::kShutdownSend);
  pkts = WaitGuestReceive();
  ASSERT_EQ(pkts.size(), 1u);
  EXPECT_EQ(pkts[0].h.op, vsock::kOpRst);
  EXPECT_EQ(HostRead(host.get(), 1), "");
  EXPECT_EQ(dev->connection_count(), 0u);
}

TEST_F(VirtioVsockTest, GuestConnectWithoutHostListenerIsReset) {
  Start();
  GuestSend(vsock::kOpRequest, 5000, 53);
  auto pkts = WaitGuestReceive();
  ASSERT_EQ(pkts.size(), 1u);
  EXPECT_EQ(pkts[0].h.op, vsock::kOpRst);
  EXPECT_EQ(dev->connection_count(), 0u);
}

TEST_F(VirtioVsockTest, DataToTheGuestRespectsItsCredit) {
  Start();
  uint32_t host_port = 0;
  io::UniqueFd fd = HostConnect(1024, &host_port, /*guest_buf_alloc=*/10);
  const std::string data(100, 'x');
  ASSERT_EQ(send(fd.get(), data.data(), data.size(), 0), 100);
  auto pkts = WaitGuestReceive();
  Pump();
  auto more = GuestReceive();
  pkts.insert(pkts.end(), more.begin(), more.end());
  size_t got = 0;
  for (auto& p : pkts) got += p.data.size();
  EXPECT_EQ(got, 10u);  // window full: no more until the guest frees some
  GuestSend(vsock::kOpCreditUpdate, 1024, host_port, "", 10, /*fwd_cnt=*/10);
  pkts = WaitGuestReceive();
  got = 0;
  for (auto& p : pkts) got += p.data.size();
  EXPECT_EQ(got, 10u);
}

// One readv() fills several posted buffers (kRxBatch); buffers it did not
// need go back to the ring and carry the next data, all in order.
TEST_F(VirtioVsockTest, HostDataSpreadsOverSeveralRxBuffersInOrder) {
  Start();
  uint32_t host_port = 0;
  io::UniqueFd fd = HostConnect(1024, &host_port);
  std::string data(40000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + (i * 7) % 26);
  ASSERT_EQ(send(fd.get(), data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));
  std::string got;
  size_t packets = 0;
  RunUntil([&] {
    for (auto& p : GuestReceive()) {
      EXPECT_EQ(p.h.op, vsock::kOpRw);
      EXPECT_LE(p.data.size(), kRxBufSize - sizeof(Header));
      got += p.data;
      ++packets;
    }
    return got.size() >= data.size();
  });
  EXPECT_EQ(got, data);
  EXPECT_GE(packets, 5u);  // 40000 bytes in buffers of 8 KiB minus the header
  // The buffers left over are still there for more data.
  ASSERT_EQ(send(fd.get(), "tail", 4, 0), 4);
  auto pkts = WaitGuestReceive();
  ASSERT_EQ(pkts.size(), 1u);
  EXPECT_EQ(pkts[0].data, "tail");
  EXPECT_EQ(dev->connection_count(), 1u);
}

// A Linux driver with EVENT_IDX kicks the rx queue only when it posts the
// entry named by avail_event: a device that ran out of rx buffers must name
// the next one, or the refill never wakes it and the stream stalls for good.
TEST_F(VirtioVsockTest, OutOfRxBuffersAsksTheDriverToKickOnTheNextOne) {
  Start();  // 32 rx buffers
  uint32_t host_port = 0;
  io::UniqueFd fd = HostConnect(1024, &host_port);  // the REQUEST took one
  const std::string chunk(16384, 'x');
  size_t got = 0;
  ASSERT_TRUE(RunUntil([&] {
    send(fd.get(), chunk.data(), chunk.size(), MSG_DONTWAIT);
    for (auto& p : GuestReceive()) got += p.data.size();
    return rxq.used_idx() == 32;
  }));
  Pump();
  EXPECT_EQ(rxq.avail_event(), 32);  // "kick me when you post buffer 32"
  // The refill is delivered to.
  PostRxBuffers(8);
  auto more = WaitGuestReceive();
  ASSERT_FALSE(more.empty());
  EXPECT_EQ(more[0].h.op, vsock::kOpRw);
  EXPECT_GT(got, 0u);
}

TEST_F(VirtioVsockTest, ShrunkGuestBufferStopsDataInsteadOfWrapping) {
  Start();
  uint32_t host_port = 0;
  io::UniqueFd fd = HostConnect(1024, &host_port, /*guest_buf_alloc=*/10);
  const std::string data(100, 'y');
  ASSERT_EQ(send(fd.get(), data.data(), data.size(), 0), 100);
  auto pkts = WaitGuestReceive();
  ASSERT_FALSE(pkts.empty());
  // 10 bytes in flight, then the guest says its buffer is only 4 bytes.
  GuestSend(vsock::kOpCreditUpdate, 1024, host_port, "", /*buf_alloc=*/4, /*fwd_cnt=*/0);
  Pump();
  for (auto& p : GuestReceive()) EXPECT_NE(p.h.op, vsock::kOpRw) << "sent data beyond the guest's credit";
  EXPECT_EQ(dev->connection_count(), 1u);
}

TEST_F(VirtioVsockTest, HostEofBecomesShutdownToTheGuest) {
  Start();
  uint32_t host_port = 0;
  io::UniqueFd fd = HostConnect(1024, &host_port);
  fd.Reset();
  auto pkts = WaitGuestReceive();
  ASSERT_EQ(pkts.size(), 1u);
  EXPECT_EQ(pkts[0].h.op, vsock::kOpShutdown);
  EXPECT_EQ(pkts[0].h.flags, vsock::kShutdownSend);
}

TEST_F(VirtioVsockTest, UnknownConnectionAndForeignCidAreHandledWithoutHarm) {
  Start();
  GuestSend(vsock::kOpRw, 1, 2, "data");
  auto pkts = WaitGuestReceive();
  ASSERT_EQ(pkts.size(), 1u);
  EXPECT_EQ(pkts[0].h.op, vsock::kOpRst);
  GuestSend(vsock::kOpRequest, 1, 52, "", 1 << 20, 0, 0, /*src_cid=*/99);  // spoofed source
  Pump();
  EXPECT_TRUE(GuestReceive().empty());  // dropped silently
  EXPECT_FALSE(drv->Status() & kStatusNeedsReset);
}

TEST_F(VirtioVsockTest, GuestOverrunningItsCreditIsReset) {
  Start();
  io::UniqueFd listener = io::ListenUnix(uds + "_52");
  GuestSend(vsock::kOpRequest, 5000, 52);
  WaitGuestReceive();
  // The host never reads: the unix socket buffer fills, then our window.
  const std::string chunk(60000, 'z');
  bool reset = false;
  for (int i = 0; i < 100 && !reset; ++i) {
    GuestSend(vsock::kOpRw, 5000, 52, chunk);
    for (auto& p : GuestReceive()) reset |= p.h.op == vsock::kOpRst;
  }
  EXPECT_TRUE(reset);
  EXPECT_EQ(dev->connection_count(), 0u);
}

TEST_F(VirtioVsockTest, BadConnectLineClosesTheHostSocket) {
  Start();
  io::UniqueFd fd = io::ConnectUnix(uds);
  ASSERT_TRUE(fd.valid());
  ASSERT_EQ(send(fd.get(), "HELLO 1\n", 8, 0), 8);
  Pump();
  EXPECT_EQ(HostRead(fd.get(), 1), "");  // EOF
  EXPECT_TRUE(GuestReceive().empty());
}

TEST_F(VirtioVsockTest, SocketPathInUseIsAClearError) {
  Start();
  io::EventLoop other;
  try {
    VirtioVsock second(VsockOptions{kCid, uds}, other);
    FAIL() << "a second device bound a live socket";
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
  }
  EXPECT_THROW(VirtioVsock(VsockOptions{2, dir + "/x.sock"}, other), DeviceError);  // CID 2 is the host
}

TEST_F(VirtioVsockTest, ResetDropsConnections) {
  Start();
  uint32_t host_port = 0;
  io::UniqueFd fd = HostConnect(1024, &host_port);
  drv->Write32(0x070, 0);  // driver resets the device
  EXPECT_EQ(dev->connection_count(), 0u);
  EXPECT_EQ(HostRead(fd.get(), 1), "");
}

TEST(VsockConnectionLimitTest, HalfTheOpenFileLimitAtMost1024) {
  EXPECT_EQ(VsockConnectionLimit(1024), 512u);
  EXPECT_EQ(VsockConnectionLimit(128), 64u);
  EXPECT_EQ(VsockConnectionLimit(1u << 20), 1024u);
}

// Found by the hostile-guest e2e test: a guest holding 1200 connections took
// all of hull-vmm's 1024 fds and its API stopped answering.
TEST_F(VirtioVsockTest, GuestConnectionsLeaveFdsForTheRestOfTheVmm) {
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  if (old.rlim_max < 256) GTEST_SKIP() << "RLIMIT_NOFILE hard limit below 256";
  struct Restore {
    rlimit r;
    ~Restore() { setrlimit(RLIMIT_NOFILE, &r); }
  } restore{old};
  rlimit low = old;
  low.rlim_cur = 128;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  Start();  // the device reads the limit when it is made
  EXPECT_EQ(dev->max_connections(), 64u);
  io::UniqueFd listener = io::ListenUnix(uds + "_52");
  for (uint32_t port = 0; port < 100; ++port) GuestSend(vsock::kOpRequest, 10000 + port, 52);
  EXPECT_EQ(dev->connection_count(), 64u);
  // The process can still open files (the API's next session, a disk).
  std::vector<io::UniqueFd> more;
  for (int i = 0; i < 16; ++i) {
    more.emplace_back(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_TRUE(more.back().valid()) << "fd " << i << ": " << std::strerror(errno);
  }
}

}  // namespace
}  // namespace hull::vmm::virtio
