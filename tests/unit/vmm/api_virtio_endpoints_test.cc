// PUT/PATCH /drives/{id}, PUT /network-interfaces/{id}, PUT /vsock:
// request -> configuration, and clear 400s for bad input.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "api/router.h"
#include "api/vm_controller.h"
#include "io/unix_socket.h"

namespace hull::vmm::api {
namespace {

class FakeVm : public VmController {
 public:
  VmState state() const override { return state_; }
  std::string instance_id() const override { return "test"; }
  config::VmConfig& mutable_config() override { return config_; }
  config::HostLimits host_limits() const override { return {4, 2048}; }
  void InstanceStart() override { state_ = VmState::kRunning; }
  void Pause() override {}
  void Resume() override {}
  void SendCtrlAltDel() override {}
  void FlushMetrics() override {}
  void UpdateDriveImage(const std::string& id, const std::string& path) override {
    swaps_.emplace_back(id, path);
  }
  void UpdateBalloon(uint32_t amount_mib) override { balloon_targets_.push_back(amount_mib); }
  nlohmann::json BalloonStatistics() const override { return {{"reported_kib", 42}}; }
  VmState state_ = VmState::kNotStarted;
  std::vector<std::pair<std::string, std::string>> swaps_;
  std::vector<uint32_t> balloon_targets_;
  config::VmConfig config_;
};

class VirtioEndpointsTest : public ::testing::Test {
 protected:
  VirtioEndpointsTest() {
    char tmpl[] = "/tmp/hull-api-XXXXXX";
    dir = mkdtemp(tmpl);
    std::ofstream(dir + "/root.img") << std::string(4096, '\0');
    std::ofstream(dir + "/other.img") << std::string(4096, '\0');
  }
  ~VirtioEndpointsTest() override { std::system(("rm -rf " + dir).c_str()); }
  ApiResponse Call(const std::string& method, const std::string& path, const std::string& body) {
    return router.Dispatch({method, path, body, {}}, vm);
  }
  std::string Fault(const ApiResponse& r) { return r.body ? r.body->value("fault_message", "") : ""; }
  std::string DriveJson(const std::string& id, const std::string& file, bool root, bool ro = false) {
    return R"({"drive_id":")" + id + R"(","path_on_host":")" + dir + "/" + file + R"(","is_root_device":)" +
           (root ? "true" : "false") + R"(,"is_read_only":)" + (ro ? "true" : "false") + "}";
  }

  std::string dir;
  Router router = MakeRouter();
  FakeVm vm;
};

TEST_F(VirtioEndpointsTest, PutDriveAddsAndReplacesById) {
  auto r = Call("PUT", "/drives/rootfs", DriveJson("rootfs", "root.img", true));
  ASSERT_EQ(r.status, 204u) << Fault(r);
  ASSERT_EQ(vm.config_.drives.size(), 1u);
  EXPECT_TRUE(vm.config_.drives[0].is_root_device);
  r = Call("PUT", "/drives/rootfs", DriveJson("rootfs", "other.img", true, true));
  ASSERT_EQ(r.status, 204u) << Fault(r);
  ASSERT_EQ(vm.config_.drives.size(), 1u);
  EXPECT_TRUE(vm.config_.drives[0].is_read_only);
}

TEST_F(VirtioEndpointsTest, PutDriveRejectsBadInputWithoutChangingTheConfig) {
  auto r = Call("PUT", "/drives/rootfs", DriveJson("rootfs", "missing.img", true));
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(Fault(r).find("missing.img"), std::string::npos) << Fault(r);
  r = Call("PUT", "/drives/a", DriveJson("b", "root.img", true));
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(Fault(r).find("does not match"), std::string::npos);
  ASSERT_EQ(Call("PUT", "/drives/a", DriveJson("a", "root.img", true)).status, 204u);
  r = Call("PUT", "/drives/b", DriveJson("b", "other.img", true));  // a second root
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(Fault(r).find("root"), std::string::npos);
  EXPECT_EQ(vm.config_.drives.size(), 1u);
  vm.state_ = VmState::kRunning;
  EXPECT_EQ(Call("PUT", "/drives/c", DriveJson("c", "other.img", false)).status, 400u);
}

TEST_F(VirtioEndpointsTest, PatchDriveSwapsThePathBeforeBoot) {
  ASSERT_EQ(Call("PUT", "/drives/a", DriveJson("a", "root.img", true)).status, 204u);
  auto r = Call("PATCH", "/drives/a", R"({"drive_id":"a","path_on_host":")" + dir + R"(/other.img"})");
  ASSERT_EQ(r.status, 204u) << Fault(r);
  EXPECT_EQ(vm.config_.drives[0].path_on_host, dir + "/other.img");
  r = Call("PATCH", "/drives/a", R"({"drive_id":"a","path_on_host":"/nonexistent.img"})");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(vm.config_.drives[0].path_on_host, dir + "/other.img");
  EXPECT_EQ(Call("PATCH", "/drives/zz", R"({"drive_id":"zz","path_on_host":"/x"})").status, 400u);
  r = Call("PATCH", "/drives/a", R"({"drive_id":"a","bogus":1})");
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(Fault(r).find("bogus"), std::string::npos);
}

TEST_F(VirtioEndpointsTest, PatchDriveOnARunningVmSwapsTheImage) {
  ASSERT_EQ(Call("PUT", "/drives/a", DriveJson("a", "root.img", true)).status, 204u);
  vm.InstanceStart();
  auto r = Call("PATCH", "/drives/a", R"({"drive_id":"a","path_on_host":")" + dir + R"(/other.img"})");
  ASSERT_EQ(r.status, 204u) << Fault(r);
  ASSERT_EQ(vm.swaps_.size(), 1u);
  EXPECT_EQ(vm.swaps_[0].first, "a");
  EXPECT_EQ(vm.swaps_[0].second, dir + "/other.img");
  EXPECT_EQ(vm.config_.drives[0].path_on_host, dir + "/other.img");
  // An image that cannot be opened never reaches the running device.
  EXPECT_EQ(Call("PATCH", "/drives/a", R"({"drive_id":"a","path_on_host":"/nonexistent.img"})").status, 400u);
  EXPECT_EQ(vm.swaps_.size(), 1u);
}

TEST_F(VirtioEndpointsTest, PutVsockChecksTheSocketPath) {
  auto r = Call("PUT", "/vsock", R"({"guest_cid":3,"uds_path":")" + dir + R"(/v.sock"})");
  ASSERT_EQ(r.status, 204u) << Fault(r);
  ASSERT_TRUE(vm.config_.vsock.has_value());
  EXPECT_EQ(vm.config_.vsock->guest_cid, 3u);
  io::UniqueFd live = io::ListenUnix(dir + "/live.sock");
  r = Call("PUT", "/vsock", R"({"guest_cid":4,"uds_path":")" + dir + R"(/live.sock"})");
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(Fault(r).find("in use"), std::string::npos) << Fault(r);
  EXPECT_EQ(vm.config_.vsock->guest_cid, 3u);  // unchanged
  EXPECT_EQ(Call("PUT", "/vsock", R"({"guest_cid":2,"uds_path":"/tmp/x.sock"})").status, 400u);
}

TEST_F(VirtioEndpointsTest, PutEntropyEnablesTheRngAndRefusesRateLimits) {
  EXPECT_FALSE(vm.config_.entropy.has_value());
  auto r = Call("PUT", "/entropy", R"({"rate_limiter":{"bandwidth":{"size":1,"refill_time":1}}})");
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(Fault(r).find("rate_limiter"), std::string::npos) << Fault(r);
  r = Call("PUT", "/entropy", "{}");
  ASSERT_EQ(r.status, 204u) << Fault(r);
  EXPECT_TRUE(vm.config_.entropy.has_value());
  vm.state_ = VmState::kRunning;
  EXPECT_EQ(Call("PUT", "/entropy", "{}").status, 400u);
}

TEST_F(VirtioEndpointsTest, PutNetworkInterfaceValidates) {
  auto r = Call("PUT", "/network-interfaces/eth0", R"({"iface_id":"eth1","host_dev_name":"tap0"})");
  EXPECT_EQ(r.status, 400u);
  r = Call("PUT", "/network-interfaces/eth0",
           R"({"iface_id":"eth0","host_dev_name":"tap0","guest_mac":"01:00:5e:00:00:01"})");
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(Fault(r).find("multicast"), std::string::npos) << Fault(r);
  const std::string tap = "hullapi" + std::to_string(getpid() % 10000);
  r = Call("PUT", "/network-interfaces/eth0",
           R"({"iface_id":"eth0","host_dev_name":")" + tap + R"(","guest_mac":"06:00:ac:10:00:02"})");
  if (r.status == 400u && Fault(r).find("tun") != std::string::npos) GTEST_SKIP() << Fault(r);
  ASSERT_EQ(r.status, 204u) << Fault(r);
  ASSERT_EQ(vm.config_.network_interfaces.size(), 1u);
  r = Call("PUT", "/network-interfaces/eth1", R"({"iface_id":"eth1","host_dev_name":")" + tap + R"("})");
  EXPECT_EQ(r.status, 400u);  // same tap twice
  EXPECT_NE(Fault(r).find("already used"), std::string::npos);
}

TEST_F(VirtioEndpointsTest, BalloonPutBeforeBootPatchAnytime) {
  EXPECT_EQ(Call("PATCH", "/balloon", R"({"amount_mib":1})").status, 400u);  // none yet
  EXPECT_EQ(Call("GET", "/balloon", "").status, 400u);
  vm.config_.machine_config.mem_size_mib = 128;
  auto r = Call("PUT", "/balloon", R"({"amount_mib":256,"deflate_on_oom":true})");
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(Fault(r).find("128 MiB"), std::string::npos) << Fault(r);
  EXPECT_FALSE(vm.config_.balloon.has_value());
  r = Call("PUT", "/balloon", R"({"amount_mib":0,"deflate_on_oom":true,"free_page_reporting":true})");
  ASSERT_EQ(r.status, 204u) << Fault(r);
  ASSERT_TRUE(vm.config_.balloon.has_value());
  EXPECT_TRUE(vm.config_.balloon->free_page_reporting);
  ASSERT_EQ(Call("PATCH", "/balloon", R"({"amount_mib":8})").status, 204u);
  EXPECT_EQ(vm.config_.balloon->amount_mib, 8u);
  EXPECT_TRUE(vm.balloon_targets_.empty());  // not running: the config is the target
  r = Call("GET", "/balloon", "");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ((*r.body)["amount_mib"], 8);

  vm.state_ = VmState::kRunning;
  EXPECT_EQ(Call("PUT", "/balloon", R"({"amount_mib":0,"deflate_on_oom":true})").status, 400u);
  ASSERT_EQ(Call("PATCH", "/balloon", R"({"amount_mib":16})").status, 204u);
  EXPECT_EQ(vm.balloon_targets_, std::vector<uint32_t>{16});
  EXPECT_EQ(Call("PATCH", "/balloon", R"({"amount_mib":129})").status, 400u);
  EXPECT_EQ(vm.config_.balloon->amount_mib, 16u);
  r = Call("GET", "/balloon/statistics", "");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ((*r.body)["reported_kib"], 42);
}

}  // namespace
}  // namespace hull::vmm::api
