// virtio-vsock packet handling (vmm/devices/virtio VirtioVsock): the input
// fills guest RAM with the rx, tx and event rings and the guest's packets
// (headers with any op, ports, lengths and credit values), optionally after
// a host program connected through the hybrid unix socket and sent the
// input's "CONNECT <port>" line. A host listener waits on "<uds>_1024", so
// guest REQUESTs to port 1024 open real connections, which the host then
// writes to and closes, and the device pumps that data back into the
// guest's rx buffers.
//
// Input: 8 control bytes, then L bytes of host line, then the RAM image.
//   [0] log2(queue size) (mod 9)  [1] bit0 EVENT_IDX, bit1 host connects
//   [2] L (mod 48)  [3] tx notifies (mod 4, at least 1)  [4..7] reserved
// Rings: rx at guest 0, tx at 0x2000, event queue at 0x4000 (FakeQueue layout).
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "devices/virtio/virtio_vsock.h"
#include "fuzz_check.h"
#include "fuzz_guest_memory.h"
#include "io/event_loop.h"
#include "io/unix_socket.h"
#include "io/unique_fd.h"
#include "virtio/mmio_transport.h"
#include "virtio_fake_driver.h"

using namespace hull;
using namespace hull::vmm::virtio;

namespace {

struct HostSide {
  HostSide() {
    char tmpl[] = "/tmp/hull-fuzz-vsock-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) __builtin_trap();
    dir = tmpl;
    uds = dir + "/v.sock";
    listener = vmm::io::ListenUnix(uds + "_1024");
  }
  ~HostSide() {
    listener.Reset();
    unlink((uds + "_1024").c_str());
    unlink(uds.c_str());
    rmdir(dir.c_str());
  }
  std::string dir, uds;
  vmm::io::UniqueFd listener;
};

void Pump(vmm::io::EventLoop& loop) {
  for (int i = 0; i < 64 && loop.RunOnce(0) > 0; ++i) {
  }
}

}  // namespace

// Each input that breaks the device is logged as a device failure (right
// for a VMM, noise for millions of inputs): keep the harness quiet.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fuzz::FuzzGuestMemory ram;
  static HostSide host;
  if (size < 8) return 0;
  const uint16_t qsize = static_cast<uint16_t>(1u << (data[0] % 9));
  uint64_t features = 1ull << kFeatureVersion1;
  if (data[1] & 1) features |= 1ull << kFeatureEventIdx;
  const bool host_connects = data[1] & 2;
  const size_t line_len = data[2] % 48;
  const int tx_notifies = 1 + data[3] % 4;
  if (size < 8 + line_len) return 0;
  const std::string line(reinterpret_cast<const char*>(data + 8), line_len);
  ram.Load({data + 8 + line_len, size - 8 - line_len});

  auto loop = std::make_shared<vmm::io::EventLoop>();
  auto irq = std::make_shared<vmm::testing::FakeIrq>();
  auto dev = std::make_shared<VirtioVsock>(VsockOptions{3, host.uds}, *loop);
  std::vector<vmm::io::UniqueFd> host_fds;
  {
    MmioTransport transport(dev, ram.memory(), irq, loop, 0xd0002000, nullptr);
    vmm::testing::FakeMmioDriver driver(transport);
    vmm::testing::FakeQueue rx(ram.memory(), 0x0000, qsize), tx(ram.memory(), 0x2000, qsize),
        ev(ram.memory(), 0x4000, qsize);
    if (!driver.Negotiate(features)) __builtin_trap();
    driver.SetupQueue(0, rx);
    driver.SetupQueue(1, tx);
    driver.SetupQueue(2, ev);
    driver.DriverOk();
    if (host_connects) {
      vmm::io::UniqueFd c = vmm::io::ConnectUnix(host.uds);
      if (c) {
        (void)!send(c.get(), line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        host_fds.push_back(std::move(c));
      }
      Pump(*loop);
    }
    for (int i = 0; i < tx_notifies; ++i) {
      driver.Notify(1);
      Pump(*loop);
      // Connections the guest opened to port 1024: the host answers and hangs up.
      for (;;) {
        int raw = accept4(host.listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (raw < 0) break;
        (void)!send(raw, "host data", 9, MSG_NOSIGNAL | MSG_DONTWAIT);
        host_fds.emplace_back(raw);
      }
      driver.Notify(0);
      Pump(*loop);
      if (i == 0) host_fds.clear();  // EOF / hang-up for the next rounds
    }
  }
  dev.reset();
  return 0;
}
