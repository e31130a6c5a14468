#include "devices/virtio/virtio_device_set.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "devices/virtio/device_error.h"
#include "devices/virtio/virtio_blk.h"
#include "devices/virtio/virtio_rng.h"
#include "devices/virtio/virtio_vsock.h"
#include "io/unix_socket.h"
#include "virtio_fake_driver.h"

namespace hull::vmm::virtio {
namespace {

// Stands in for vmm/main's MmioSlots.
struct FakeSlots {
  struct Slot {
    uint64_t base;
    std::shared_ptr<IrqLine> irq_line;
  };
  Slot Allocate() {
    if (allocated == capacity) throw std::runtime_error("no interrupt left for another virtio-mmio device");
    return {0xd0001000 + 0x1000 * allocated++, std::make_shared<testing::FakeIrq>()};
  }
  void Attach(const Slot& slot, std::shared_ptr<IoHandler> device) { attached.push_back({slot.base, device}); }
  size_t capacity = 8;
  size_t allocated = 0;
  std::vector<std::pair<uint64_t, std::shared_ptr<IoHandler>>> attached;
};

uint32_t DeviceId(IoHandler& h) {
  uint32_t v = 0;
  h.Read(0x008, {reinterpret_cast<uint8_t*>(&v), 4});
  return v;
}

class DeviceSetTest : public ::testing::Test {
 protected:
  DeviceSetTest() {
    mem.AddRegion(MemoryRegion(0, 1 << 20));
    char tmpl[] = "/tmp/hull-devset-XXXXXX";
    dir = mkdtemp(tmpl);
    std::ofstream(dir + "/root.img") << std::string(4096, '\0');
    std::ofstream(dir + "/data.img") << std::string(8192, '\0');
  }
  ~DeviceSetTest() override { std::system(("rm -rf " + dir).c_str()); }
  config::DriveConfig Drive(std::string id, std::string file, bool root) {
    config::DriveConfig d;
    d.drive_id = std::move(id);
    d.path_on_host = dir + "/" + file;
    d.is_root_device = root;
    return d;
  }
  GuestMemory mem;
  std::string dir;
};

TEST_F(DeviceSetTest, AttachesRootDriveFirstThenTheRest) {
  config::VmConfig cfg;
  cfg.drives = {Drive("data", "data.img", false), Drive("rootfs", "root.img", true)};
  cfg.vsock = config::VsockConfig{3, dir + "/v.sock"};
  FakeSlots slots;
  VirtioDeviceSet set;
  set.AttachFromConfig(cfg, mem, nullptr, slots, /*entropy=*/true);
  ASSERT_EQ(slots.attached.size(), 4u);
  EXPECT_EQ(DeviceId(*slots.attached[0].second), kDeviceTypeBlock);
  uint64_t capacity = 0;
  slots.attached[0].second->Read(0x100, {reinterpret_cast<uint8_t*>(&capacity), 8});
  EXPECT_EQ(capacity, 8u);  // root.img: 4096 bytes
  EXPECT_EQ(DeviceId(*slots.attached[2].second), kDeviceTypeVsock);
  EXPECT_EQ(DeviceId(*slots.attached[3].second), kDeviceTypeRng);
  set.Start();
  std::ofstream(dir + "/bigger.img") << std::string(16384, '\0');
  set.ReplaceDriveImage("rootfs", dir + "/bigger.img");
  slots.attached[0].second->Read(0x100, {reinterpret_cast<uint8_t*>(&capacity), 8});
  EXPECT_EQ(capacity, 32u);
  EXPECT_THROW(set.ReplaceDriveImage("nope", dir + "/bigger.img"), DeviceError);
}

TEST_F(DeviceSetTest, AMissingImageAttachesNothingAndNamesTheDrive) {
  config::VmConfig cfg;
  cfg.drives = {Drive("rootfs", "root.img", true), Drive("scratch", "missing.img", false)};
  cfg.vsock = config::VsockConfig{3, dir + "/v.sock"};
  FakeSlots slots;
  VirtioDeviceSet set;
  try {
    set.AttachFromConfig(cfg, mem, nullptr, slots, false);
    FAIL();
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("drive 'scratch'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(slots.allocated, 0u);
  EXPECT_TRUE(slots.attached.empty());
  EXPECT_NE(access((dir + "/v.sock").c_str(), F_OK), 0);  // vsock socket not left behind
}

TEST_F(DeviceSetTest, TooManyDevicesForTheSlotsAttachesNothing) {
  config::VmConfig cfg;
  cfg.drives = {Drive("a", "root.img", false), Drive("b", "data.img", false)};
  FakeSlots slots;
  slots.capacity = 1;
  VirtioDeviceSet set;
  EXPECT_THROW(set.AttachFromConfig(cfg, mem, nullptr, slots, false), std::runtime_error);
  EXPECT_TRUE(slots.attached.empty());
}

TEST_F(DeviceSetTest, CrossDeviceRules) {
  config::VmConfig cfg;
  cfg.drives = {Drive("a", "root.img", true), Drive("b", "data.img", true)};
  EXPECT_THROW(CheckDeviceSet(cfg), DeviceError);
  cfg.drives.clear();
  cfg.network_interfaces = {{"eth0", "tap0", std::nullopt}, {"eth1", "tap0", std::nullopt}};
  try {
    CheckDeviceSet(cfg);
    FAIL();
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("already used"), std::string::npos);
  }
}

TEST_F(DeviceSetTest, PreBootChecks) {
  EXPECT_NO_THROW(CheckDrive(Drive("rootfs", "root.img", true)));
  EXPECT_THROW(CheckDrive(Drive("rootfs", "nope.img", true)), DeviceError);
  EXPECT_NO_THROW(CheckVsock({3, dir + "/v.sock"}));
  EXPECT_THROW(CheckVsock({3, dir + "/no-such-dir/v.sock"}), DeviceError);
  io::UniqueFd live = io::ListenUnix(dir + "/live.sock");
  try {
    CheckVsock({3, dir + "/live.sock"});
    FAIL();
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos);
  }
  EXPECT_THROW(CheckNetworkInterface({"eth0", "tap0", std::string("01:00:5e:00:00:01")}), DeviceError);  // multicast
}

}  // namespace
}  // namespace hull::vmm::virtio
