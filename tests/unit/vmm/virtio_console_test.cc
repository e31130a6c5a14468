#include "devices/virtio/virtio_console.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "devices/virtio/device_error.h"
#include "io/event_loop.h"
#include "virtio/mmio_transport.h"
#include "virtio_fake_driver.h"

namespace hull::vmm::virtio {
namespace {

constexpr uint64_t kFeatures = 1ull << kFeatureVersion1;
constexpr uint64_t kBuf = 0x20000;

class VirtioConsoleTest : public ::testing::Test {
 protected:
  VirtioConsoleTest() : rxq(mem, 0x1000, 16), txq(mem, 0x2000, 16) {
    mem.AddRegion(MemoryRegion(0, 1 << 20));
    int out[2], in[2];
    EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(in, O_CLOEXEC), 0);
    out_read.Reset(out[0]);
    in_write.Reset(in[1]);
    dev = std::make_shared<VirtioConsole>(io::UniqueFd(out[1]), io::UniqueFd(in[0]), loop);
    transport = std::make_unique<MmioTransport>(dev, mem, testing::Unowned(irq), testing::Unowned(loop), 0xd0003000, nullptr);
    drv = std::make_unique<testing::FakeMmioDriver>(*transport);
    EXPECT_TRUE(drv->Negotiate(kFeatures));
    drv->SetupQueue(0, rxq);
    drv->SetupQueue(1, txq);
    drv->DriverOk();
  }
  void Pump() {
    while (loop.RunOnce(20) > 0) {
    }
  }
  GuestMemory mem;
  testing::FakeIrq irq;
  io::EventLoop loop;
  testing::FakeQueue rxq, txq;
  io::UniqueFd out_read, in_write;
  std::shared_ptr<VirtioConsole> dev;
  std::unique_ptr<MmioTransport> transport;
  std::unique_ptr<testing::FakeMmioDriver> drv;
};

TEST_F(VirtioConsoleTest, GuestOutputReachesTheHost) {
  const std::string text = "login: ";
  mem.Write(kBuf, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  txq.AddChain({{kBuf, static_cast<uint32_t>(text.size()), false}});
  drv->Notify(1);
  Pump();
  char buf[32] = {};
  ASSERT_EQ(read(out_read.get(), buf, sizeof buf), static_cast<ssize_t>(text.size()));
  EXPECT_EQ(std::string(buf), text);
  EXPECT_EQ(txq.used_idx(), 1);
}

TEST_F(VirtioConsoleTest, HostInputReachesTheGuestWhenItPostsBuffers) {
  ASSERT_EQ(write(in_write.get(), "ls\n", 3), 3);
  Pump();  // no rx buffer yet: input waits
  EXPECT_EQ(rxq.used_idx(), 0);
  rxq.AddChain({{kBuf, 64, true}});
  drv->Notify(0);
  Pump();
  ASSERT_EQ(rxq.used_idx(), 1);
  EXPECT_EQ(rxq.used_elem(0).len, 3u);
  char buf[4] = {};
  mem.Read(kBuf, {reinterpret_cast<uint8_t*>(buf), 3});
  EXPECT_STREQ(buf, "ls\n");
}

TEST_F(VirtioConsoleTest, SlowHostHoldsGuestOutputInTheQueue) {
  // Fill the pipe so the host "cannot take" more.
  ssize_t stuffed = 0;
  fcntl(out_read.get(), F_SETFL, O_NONBLOCK);
  const std::string chunk(60000, 'b');
  for (int i = 0; i < 8; ++i) {
    mem.Write(kBuf + 0x10000 * (i % 4), {reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size()});
    txq.AddChain({{kBuf + 0x10000 * (i % 4), static_cast<uint32_t>(chunk.size()), false}});
  }
  drv->Notify(1);
  Pump();
  EXPECT_LT(txq.used_idx(), 8);  // back pressure: not everything consumed
  // Drain the pipe: the rest flows.
  char buf[65536];
  for (int round = 0; round < 200 && stuffed < 8 * 60000; ++round) {
    ssize_t n = read(out_read.get(), buf, sizeof buf);
    if (n > 0) stuffed += n;
    loop.RunOnce(10);
  }
  EXPECT_EQ(stuffed, 8 * 60000);
  EXPECT_EQ(txq.used_idx(), 8);
}

TEST(VirtioConsoleArgs, RegularFileInputIsRefused) {
  io::EventLoop loop;
  char tmpl[] = "/tmp/hull-console-XXXXXX";
  int fd = mkstemp(tmpl);
  unlink(tmpl);
  int out = dup(STDERR_FILENO);
  EXPECT_THROW(VirtioConsole(io::UniqueFd(out), io::UniqueFd(fd), loop), DeviceError);
}

}  // namespace
}  // namespace hull::vmm::virtio
