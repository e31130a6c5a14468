// Configuring virtio-fs shares: `--fs tag=..,path=..[,readonly]`, the
// config file's "fs" section and PUT /fs/{tag}, with clear errors for a
// missing directory, a bad or duplicate tag and unknown fields.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "api/router.h"
#include "api/vm_controller.h"
#include "config/vm_config.h"
#include "fuse_test_client.h"

namespace hull::vmm {
namespace {

using fuse::testing::TempTree;

class FakeVm : public api::VmController {
 public:
  api::VmState state() const override { return state_; }
  std::string instance_id() const override { return "test"; }
  config::VmConfig& mutable_config() override { return config_; }
  config::HostLimits host_limits() const override { return {4, 2048}; }
  void InstanceStart() override { state_ = api::VmState::kRunning; }
  void Pause() override {}
  void Resume() override {}
  void SendCtrlAltDel() override {}
  void FlushMetrics() override {}
  void UpdateDriveImage(const std::string&, const std::string&) override {}
  api::VmState state_ = api::VmState::kNotStarted;
  config::VmConfig config_;
};

std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(VirtioFsConfig, FlagParsesTagPathAndReadonly) {
  const auto f = config::ParseFsFlag("tag=share,path=/srv/share,readonly");
  EXPECT_EQ(f.tag, "share");
  EXPECT_EQ(f.path, "/srv/share");
  EXPECT_TRUE(f.read_only);
  EXPECT_FALSE(config::ParseFsFlag("path=/srv,tag=t").read_only);
}

TEST(VirtioFsConfig, BadFlagsSayWhatIsWrong) {
  EXPECT_NE(ErrorOf([] { config::ParseFsFlag("tag=share"); }).find("path"), std::string::npos);
  EXPECT_NE(ErrorOf([] { config::ParseFsFlag("path=/srv"); }).find("tag"), std::string::npos);
  EXPECT_NE(ErrorOf([] { config::ParseFsFlag("tag=,path=/srv"); }).find("tag"), std::string::npos);
  EXPECT_NE(ErrorOf([] { config::ParseFsFlag("tag=" + std::string(37, 'x') + ",path=/srv"); }).find("36"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] { config::ParseFsFlag("tag=a/b,path=/srv"); }).find("'/'"), std::string::npos);
  EXPECT_NE(ErrorOf([] { config::ParseFsFlag("tag=a,path=relative"); }).find("absolute"), std::string::npos);
  EXPECT_NE(ErrorOf([] { config::ParseFsFlag("tag=a,path=/srv,cache=always"); }).find("cache=always"),
            std::string::npos);
}

TEST(VirtioFsConfig, ConfigFileSectionAndDuplicateTags) {
  const std::string head = R"({"boot-source": {"kernel_image_path": "/k"}, "fs": [)";
  auto c = config::ParseVmConfigFile(head + R"({"tag": "a", "path": "/x", "read_only": true}]})");
  ASSERT_EQ(c.fs.size(), 1u);
  EXPECT_TRUE(c.fs[0].read_only);
  EXPECT_EQ(config::ToJson(c)["fs"][0]["tag"], "a");
  EXPECT_NE(ErrorOf([&] { config::ParseVmConfigFile(head + R"({"tag": "a", "path": "/x"}, {"tag": "a", "path": "/y"}]})"); })
                .find("appears twice"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] { config::ParseVmConfigFile(head + R"({"tag": "a", "path": "/x", "dax": true}]})"); }).find("dax"),
            std::string::npos);
  config::VmConfig with_a = c;
  EXPECT_NE(ErrorOf([&] { config::AddFs(with_a, {"a", "/z", false}); }).find("appears twice"), std::string::npos);
}

TEST(VirtioFsConfig, PutFsChecksTheDirectoryBeforeBoot) {
  TempTree tree;
  FakeVm vm;
  api::Router router = api::MakeRouter();
  auto put = [&](const std::string& tag, const std::string& body) {
    return router.Dispatch({"PUT", "/fs/" + tag, body, {}}, vm);
  };
  EXPECT_EQ(put("share", R"({"tag":"share","path":")" + tree.share + R"("})").status, 204);
  ASSERT_EQ(vm.config_.fs.size(), 1u);
  EXPECT_FALSE(vm.config_.fs[0].read_only);
  // The same tag again replaces the share.
  EXPECT_EQ(put("share", R"({"tag":"share","path":")" + tree.share + R"(","read_only":true})").status, 204);
  ASSERT_EQ(vm.config_.fs.size(), 1u);
  EXPECT_TRUE(vm.config_.fs[0].read_only);
  auto missing = put("gone", R"({"tag":"gone","path":")" + tree.root + R"(/missing"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body->dump().find("missing"), std::string::npos) << missing.body->dump();
  EXPECT_EQ(put("a", R"({"tag":"b","path":")" + tree.share + R"("})").status, 400);
  EXPECT_EQ(vm.config_.fs.size(), 1u) << "a refused PUT changed the configuration";
  vm.state_ = api::VmState::kRunning;
  EXPECT_EQ(put("late", R"({"tag":"late","path":")" + tree.share + R"("})").status, 400);
}

}  // namespace
}  // namespace hull::vmm
