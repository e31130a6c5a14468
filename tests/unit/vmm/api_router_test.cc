// API requests -> VM state, through the router and every endpoint, with a
// fake VM (no sockets, no KVM).
#include <gtest/gtest.h>

#include "api/api_error.h"
#include "api/router.h"

namespace hull::vmm::api {
namespace {

class FakeVm : public VmController {
 public:
  VmState state() const override { return state_; }
  std::string instance_id() const override { return "test"; }
  config::VmConfig& mutable_config() override { return config_; }
  config::HostLimits host_limits() const override { return {4, 2048}; }
  void InstanceStart() override {
    if (fail_start_) throw std::runtime_error("kernel image /nope: No such file or directory");
    state_ = VmState::kRunning;
    ++starts_;
  }
  void Pause() override { state_ = VmState::kPaused; }
  void Resume() override { state_ = VmState::kRunning; }
  void SendCtrlAltDel() override { ++ctrl_alt_dels_; }
  void FlushMetrics() override { ++flushes_; }
  void UpdateDriveImage(const std::string&, const std::string&) override {}

  VmState state_ = VmState::kNotStarted;
  config::VmConfig config_;
  bool fail_start_ = false;
  int starts_ = 0, ctrl_alt_dels_ = 0, flushes_ = 0;
};

struct ApiFixture : ::testing::Test {
  ApiResponse Call(const std::string& method, const std::string& path,
                   const std::string& body = "") {
    return router.Dispatch({method, path, body, {}}, vm);
  }
  std::string Fault(const ApiResponse& r) {
    return r.body ? (*r.body)["fault_message"].get<std::string>() : "";
  }
  Router router = MakeRouter();
  FakeVm vm;
};

TEST_F(ApiFixture, InstanceInfo) {
  auto r = Call("GET", "/");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ((*r.body)["state"], "Not started");
  EXPECT_EQ((*r.body)["id"], "test");
}

TEST_F(ApiFixture, ConfigureAndStart) {
  EXPECT_EQ(Call("PUT", "/machine-config", R"({"vcpu_count": 2, "mem_size_mib": 256})").status,
            204u);
  EXPECT_EQ(
      Call("PUT", "/boot-source", R"({"kernel_image_path": "/k", "boot_args": "console=ttyS0"})")
          .status,
      204u);
  EXPECT_EQ(vm.config_.machine_config.vcpu_count, 2u);
  EXPECT_EQ(vm.config_.boot_source->kernel_image_path, "/k");
  EXPECT_EQ(Call("PATCH", "/machine-config", R"({"mem_size_mib": 512})").status, 204u);
  EXPECT_EQ(vm.config_.machine_config.mem_size_mib, 512u);
  EXPECT_EQ(vm.config_.machine_config.vcpu_count, 2u);
  auto cfg = Call("GET", "/vm/config");
  EXPECT_EQ(cfg.status, 200u);
  EXPECT_EQ((*cfg.body)["boot-source"]["kernel_image_path"], "/k");
  EXPECT_EQ(Call("PUT", "/actions", R"({"action_type": "InstanceStart"})").status, 204u);
  EXPECT_EQ(vm.state_, VmState::kRunning);
  EXPECT_EQ((*Call("GET", "/").body)["state"], "Running");
}

TEST_F(ApiFixture, SecondInstanceStartAndLateConfigAreRefused) {
  Call("PUT", "/actions", R"({"action_type": "InstanceStart"})");
  auto again = Call("PUT", "/actions", R"({"action_type": "InstanceStart"})");
  EXPECT_EQ(again.status, 400u);
  EXPECT_NE(Fault(again).find("already running"), std::string::npos);
  EXPECT_EQ(vm.starts_, 1);
  auto late = Call("PUT", "/machine-config", R"({"vcpu_count": 1, "mem_size_mib": 128})");
  EXPECT_EQ(late.status, 400u);
  EXPECT_NE(Fault(late).find("before InstanceStart"), std::string::npos);
}

TEST_F(ApiFixture, PauseResumeAndCtrlAltDel) {
  EXPECT_EQ(Call("PATCH", "/vm", R"({"state": "Paused"})").status, 400u) << "not running yet";
  EXPECT_EQ(Call("PUT", "/actions", R"({"action_type": "SendCtrlAltDel"})").status, 400u);
  Call("PUT", "/actions", R"({"action_type": "InstanceStart"})");
  EXPECT_EQ(Call("PATCH", "/vm", R"({"state": "Paused"})").status, 204u);
  EXPECT_EQ(vm.state_, VmState::kPaused);
  EXPECT_EQ((*Call("GET", "/").body)["state"], "Paused");
  EXPECT_EQ(Call("PATCH", "/vm", R"({"state": "Resumed"})").status, 204u);
  EXPECT_EQ(vm.state_, VmState::kRunning);
  EXPECT_EQ(Call("PATCH", "/vm", R"({"state": "Frozen"})").status, 400u);
  EXPECT_EQ(Call("PUT", "/actions", R"({"action_type": "SendCtrlAltDel"})").status, 204u);
  EXPECT_EQ(vm.ctrl_alt_dels_, 1);
}

TEST_F(ApiFixture, BadRequestsGetFaultMessages) {
  auto malformed = Call("PUT", "/machine-config", "{");
  EXPECT_EQ(malformed.status, 400u);
  EXPECT_NE(Fault(malformed).find("malformed JSON"), std::string::npos);
  auto empty = Call("PUT", "/boot-source", "");
  EXPECT_EQ(empty.status, 400u);
  auto unknown =
      Call("PUT", "/machine-config", R"({"vcpu_count": 1, "mem_size_mib": 128, "vcpus": 2})");
  EXPECT_EQ(unknown.status, 400u);
  EXPECT_NE(Fault(unknown).find("'vcpus'"), std::string::npos);
  auto too_many = Call("PUT", "/machine-config", R"({"vcpu_count": 5, "mem_size_mib": 128})");
  EXPECT_EQ(too_many.status, 400u);
  EXPECT_NE(Fault(too_many).find("KVM allows"), std::string::npos);
  auto too_much = Call("PUT", "/machine-config", R"({"vcpu_count": 1, "mem_size_mib": 4096})");
  EXPECT_EQ(too_much.status, 400u);
  EXPECT_EQ(Call("PUT", "/actions", R"({"action_type": "Explode"})").status, 400u);
  EXPECT_EQ(Call("PUT", "/actions", R"({"action_type": "InstanceStart", "x": 1})").status, 400u);
  EXPECT_EQ(Call("GET", "/nothing-here").status, 404u);
  EXPECT_EQ(Call("DELETE", "/machine-config").status, 405u);
  EXPECT_EQ(vm.state_, VmState::kNotStarted);
}

TEST_F(ApiFixture, NumberTooLargeForADoubleIsAMalformedBody) {
  // nlohmann throws out_of_range (not parse_error) here; found by the bad-input matrix.
  auto huge = Call("PUT", "/machine-config", R"({"vcpu_count": 1e400, "mem_size_mib": 128})");
  EXPECT_EQ(huge.status, 400u);
  EXPECT_NE(Fault(huge).find("malformed JSON body"), std::string::npos) << Fault(huge);
  EXPECT_EQ(vm.state_, VmState::kNotStarted);
}

TEST_F(ApiFixture, FailedStartReportsWhy) {
  vm.fail_start_ = true;
  auto r = Call("PUT", "/actions", R"({"action_type": "InstanceStart"})");
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(Fault(r).find("/nope"), std::string::npos);
  EXPECT_EQ(vm.state_, VmState::kNotStarted);
}

TEST_F(ApiFixture, RoutesWithParameters) {
  Router r;
  std::string seen;
  r.Add("PUT", "/drives/{drive_id}", [&](const ApiRequest& req, VmController&) {
    seen = req.params.at("drive_id");
    return ApiResponse{};
  });
  EXPECT_EQ(r.Dispatch({"PUT", "/drives/rootfs", "", {}}, vm).status, 204u);
  EXPECT_EQ(seen, "rootfs");
  EXPECT_EQ(r.Dispatch({"PUT", "/drives", "", {}}, vm).status, 404u);
}

}  // namespace
}  // namespace hull::vmm::api
