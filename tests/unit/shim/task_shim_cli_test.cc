// containerd-shim-hull-v2's command line and socket conventions, checked
// against what containerd 1.6's Go shim library does.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "shim-main/commands.h"
#include "shim-main/shim_flags.h"
#include "shim-main/shim_socket.h"

namespace hull::shim_main {
namespace {

TEST(ShimFlags, ParsesContainerdStartCommandLine) {
  auto f = ParseShimFlags({"-namespace", "k8s.io", "-address", "/run/containerd/containerd.sock", "-publish-binary",
                           "/usr/bin/containerd", "-id", "abc", "-debug", "start"});
  EXPECT_EQ(f.namespace_, "k8s.io");
  EXPECT_EQ(f.address, "/run/containerd/containerd.sock");
  EXPECT_EQ(f.publish_binary, "/usr/bin/containerd");
  EXPECT_EQ(f.id, "abc");
  EXPECT_TRUE(f.debug);
  EXPECT_EQ(f.action, "start");
}

TEST(ShimFlags, GoFlagSpellingsAndServeWithoutAction) {
  auto f = ParseShimFlags({"--namespace=default", "-id=x", "-debug=false", "-bundle", "/b", "delete"});
  EXPECT_EQ(f.namespace_, "default");
  EXPECT_EQ(f.id, "x");
  EXPECT_FALSE(f.debug);
  EXPECT_EQ(f.bundle, "/b");
  EXPECT_EQ(f.action, "delete");
  auto serve = ParseShimFlags({"-namespace", "default", "-id", "x", "-address", "/a"});
  EXPECT_EQ(serve.action, "");
  EXPECT_EQ(serve.publish_binary, "containerd");
}

TEST(ShimFlags, RejectsUnknownFlagsMissingValuesAndExtraArguments) {
  EXPECT_THROW(ParseShimFlags({"-bogus", "1"}), ShimUsageError);
  EXPECT_THROW(ParseShimFlags({"-namespace"}), ShimUsageError);
  EXPECT_THROW(ParseShimFlags({"-debug=maybe"}), ShimUsageError);
  EXPECT_THROW(ParseShimFlags({"start", "extra"}), ShimUsageError);
  try {
    ParseShimFlags({"-nope"});
  } catch (const ShimUsageError& e) {
    EXPECT_STREQ(e.what(), "flag provided but not defined: -nope");
  }
}

TEST(ShimSocket, GoCleanPath) {
  EXPECT_EQ(GoCleanPath("/run/containerd/containerd.sock/default/c1"), "/run/containerd/containerd.sock/default/c1");
  EXPECT_EQ(GoCleanPath("/a//b/./c/../d/"), "/a/b/d");
  EXPECT_EQ(GoCleanPath("a/../../b"), "../b");
  EXPECT_EQ(GoCleanPath("/../x"), "/x");
  EXPECT_EQ(GoCleanPath(""), ".");
}

TEST(ShimSocket, AddressIsSha256OfAddressNamespaceAndGroup) {
  // sha256("/run/containerd/containerd.sock/default/c1"), as Go's
  // shim.SocketAddress computes it.
  EXPECT_EQ(SocketAddress("/run/containerd", "/run/containerd/containerd.sock", "default", "c1"),
            "unix:///run/containerd/s/d25aa4ef11a84e954e74a5bcff06557d0b6ea8d0c00243896f29826694bbd888");
}

class ShimBundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-shim-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void WriteSpec(const std::string& json) { std::ofstream(dir_ + "/config.json") << json; }
  std::string dir_;
};

TEST_F(ShimBundleTest, GroupComesFromTheSandboxIdAnnotation) {
  WriteSpec(R"({"ociVersion":"1.0.2","annotations":{"io.kubernetes.cri.sandbox-id":"pod1"}})");
  EXPECT_EQ(GroupFromBundleSpec(dir_ + "/config.json", "c2"), "pod1");
  WriteSpec(R"({"ociVersion":"1.0.2"})");
  EXPECT_EQ(GroupFromBundleSpec(dir_ + "/config.json", "c2"), "c2");
  WriteSpec(R"({"annotations":{"io.kubernetes.cri.sandbox-id":7}})");
  EXPECT_THROW(GroupFromBundleSpec(dir_ + "/config.json", "c2"), ShimSocketError);
  WriteSpec("not json");
  EXPECT_THROW(GroupFromBundleSpec(dir_ + "/config.json", "c2"), ShimSocketError);
  EXPECT_THROW(GroupFromBundleSpec(dir_ + "/missing.json", "c2"), ShimSocketError);
}

TEST_F(ShimBundleTest, BindReportsInUseAndStaleSocketsCanBeReplaced) {
  std::string address = "unix://" + dir_ + "/s/shim.sock";
  ListeningSocket first = BindShimSocket(address);
  ASSERT_GE(first.fd(), 0);
  EXPECT_EQ(std::filesystem::status(dir_ + "/s/shim.sock").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_TRUE(CanConnect(address));
  EXPECT_LT(BindShimSocket(address).fd(), 0) << "a bound path reports in-use";
  first = ListeningSocket();  // the shim died; its file stays behind
  EXPECT_FALSE(CanConnect(address));
  RemoveSocket(address);
  EXPECT_GE(BindShimSocket(address).fd(), 0);
}

TEST_F(ShimBundleTest, WriteFileAtomicallyReplacesContent) {
  WriteFileAtomically(dir_ + "/address", "unix:///one");
  WriteFileAtomically(dir_ + "/address", "unix:///two");
  std::ifstream in(dir_ + "/address");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "unix:///two");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/.address"));
}

TEST_F(ShimBundleTest, DeletePrintsADeleteResponseAndRemovesAStaleSocket) {
  std::string address = "unix://" + dir_ + "/stale.sock";
  { ListeningSocket dead = BindShimSocket(address); }
  WriteFileAtomically(dir_ + "/address", address);
  ShimFlags flags;
  flags.namespace_ = "default";
  flags.id = "c1";
  flags.bundle = dir_;
  std::ostringstream out;
  EXPECT_EQ(RunDelete(flags, out), 0);
  ::containerd::task::v2::DeleteResponse response;
  ASSERT_TRUE(response.ParseFromString(out.str()));
  EXPECT_EQ(response.exit_status(), 137u);
  EXPECT_GT(response.exited_at().seconds(), 1700000000);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/stale.sock"));
}

}  // namespace
}  // namespace hull::shim_main
