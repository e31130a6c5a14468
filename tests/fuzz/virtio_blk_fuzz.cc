// virtio-blk request parsing (vmm/devices/virtio VirtioBlock) driven the way
// a guest drives it: the MMIO transport is set up like the Linux driver's
// probe, the input fills guest RAM (rings, request headers, data buffers,
// status bytes), the queue is notified and the I/O loop runs until the
// requests complete; then the input's MMIO register writes land on the
// device (resets mid-request, stray notifies, garbage), as a hostile guest
// would. The disk is a 32 KiB temp file.
//
// Input: 8 control bytes, N * 8 bytes of MMIO writes, then the RAM image
// (rings at guest address 0: descriptor table, available ring, used ring).
//   [0] log2(queue size) (mod 9: 1..256)  [1] bit0 EVENT_IDX, bit1
//   INDIRECT_DESC, bit2 read-only disk  [2] N (mod 16)  [3..7] reserved
//   each write: u32 register offset (mod 0x200), u32 value
#include <linux/virtio_blk.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "devices/virtio/virtio_blk.h"
#include "fuzz_check.h"
#include "fuzz_guest_memory.h"
#include "io/event_loop.h"
#include "virtio/mmio_transport.h"
#include "virtio_fake_driver.h"

using namespace hull;
using namespace hull::vmm::virtio;

namespace {

std::string MakeDiskImage() {
  static char path[] = "/tmp/hull-fuzz-blk-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0 || ftruncate(fd, 64 * 512) != 0) __builtin_trap();
  close(fd);
  atexit([] { unlink(path); });
  return path;
}

// Runs the loop until it has been idle for a millisecond (worker completions
// arrive through an eventfd).
void RunUntilIdle(vmm::io::EventLoop& loop) {
  for (int i = 0; i < 1000 && loop.RunOnce(1) > 0; ++i) {
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
  static const std::string disk = MakeDiskImage();
  if (size < 8) return 0;
  const uint16_t qsize = static_cast<uint16_t>(1u << (data[0] % 9));
  uint64_t features = (1ull << kFeatureVersion1) | (1ull << VIRTIO_BLK_F_FLUSH);
  if (data[1] & 1) features |= 1ull << kFeatureEventIdx;
  if (data[1] & 2) features |= 1ull << kFeatureIndirectDesc;
  const bool read_only = data[1] & 4;
  const size_t writes = data[2] % 16;
  if (size < 8 + 8 * writes) return 0;
  const uint8_t* mmio_writes = data + 8;
  const size_t image_at = 8 + 8 * writes;
  ram.Load({data + image_at, size - image_at});

  auto loop = std::make_shared<vmm::io::EventLoop>();
  auto irq = std::make_shared<vmm::testing::FakeIrq>();
  BlockOptions options;
  options.path = disk;
  options.read_only = read_only;
  options.serial = "fuzz-serial";
  options.workers = 1;
  auto blk = std::make_shared<VirtioBlock>(options, *loop);
  {
    MmioTransport transport(blk, ram.memory(), irq, loop, 0xd0001000, nullptr);
    vmm::testing::FakeMmioDriver driver(transport);
    vmm::testing::FakeQueue rings(ram.memory(), 0, qsize);
    if (!driver.Negotiate(features & driver.DeviceFeatures())) __builtin_trap();  // offered features
    driver.SetupQueue(0, rings);
    driver.DriverOk();
    driver.Notify(0);
    RunUntilIdle(*loop);
    for (size_t i = 0; i < writes; ++i) {
      uint32_t offset, value;
      std::memcpy(&offset, mmio_writes + 8 * i, 4);
      std::memcpy(&value, mmio_writes + 8 * i + 4, 4);
      driver.Write32(offset % 0x200, value);
      RunUntilIdle(*loop);
    }
  }
  blk.reset();  // joins the worker before the next input reuses guest RAM
  return 0;
}
