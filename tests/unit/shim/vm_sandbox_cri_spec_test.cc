// A Kubernetes pod's specs (containerd's CRI plugin) adapted for the guest:
// bind mounts become files in the rootfs image, namespaces the sandbox's.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "sandbox/host_binds.h"
#include "sandbox/sandbox_error.h"
#include "vm_sandbox/rootfs_mounts.h"

namespace hull::shim {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

class CriSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-cri-spec-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  static std::string Read(const fs::path& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  static json Bind(const std::string& destination, const std::string& source) {
    return {{"destination", destination}, {"type", "bind"}, {"source", source}, {"options", {"rbind", "rprivate", "rw"}}};
  }
  fs::path dir_;
};

// As containerd 1.6's CRI mounts a pod container's files.
TEST_F(CriSpecTest, PodFilesLeaveTheMountsForTheImageAndShmBecomesATmpfs) {
  json config = {{"mounts",
                  {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
                   Bind("/etc/hostname", Write("hostname", "pod-a\n")),
                   Bind("/etc/hosts", Write("hosts", "127.0.0.1 localhost\n")),
                   Bind("/etc/resolv.conf", Write("resolv.conf", "nameserver 10.0.0.53\n")),
                   Bind("/dev/shm", dir_.string())}}};
  const std::vector<ImageFile> files = TakeBindsIntoImage(config);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].destination, "/etc/hostname");
  EXPECT_EQ(files[1].source, dir_ / "hosts");
  EXPECT_EQ(files[2].destination, "/etc/resolv.conf");
  ASSERT_EQ(config["mounts"].size(), 2u);
  EXPECT_EQ(config["mounts"][0]["type"], "proc");
  EXPECT_EQ(config["mounts"][1]["destination"], "/dev/shm");
  EXPECT_EQ(config["mounts"][1]["type"], "tmpfs");

  const fs::path staging = dir_ / "staging";
  StageImageFiles(files, staging);
  EXPECT_EQ(Read(staging / "etc/hostname"), "pod-a\n");
  EXPECT_EQ(Read(staging / "etc/hosts"), "127.0.0.1 localhost\n");
  EXPECT_EQ(Read(staging / "etc/resolv.conf"), "nameserver 10.0.0.53\n");
}

TEST_F(CriSpecTest, ASpecWithoutBindsIsLeftAlone) {
  json config = {{"mounts", {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}}}}};
  const json before = config;
  EXPECT_TRUE(TakeBindsIntoImage(config).empty());
  EXPECT_EQ(config, before);
  json no_mounts = {{"process", {{"args", {"sh"}}}}};
  EXPECT_TRUE(TakeBindsIntoImage(no_mounts).empty());
}

TEST_F(CriSpecTest, BadDestinationsAndSourcesAreNamed) {
  const std::string hosts = Write("hosts", "x");
  for (const char* bad : {"etc/hosts", "/", "/etc/../../hosts", ""}) {
    json config = {{"mounts", {Bind(bad, hosts)}}};
    try {
      TakeBindsIntoImage(config);
      ADD_FAILURE() << "accepted destination '" << bad << "'";
    } catch (const SandboxError& e) {
      EXPECT_NE(std::string(e.what()).find("destination"), std::string::npos) << e.what();
    }
  }
  json missing = {{"mounts", {Bind("/etc/hosts", (dir_ / "nope").string())}}};
  try {
    TakeBindsIntoImage(missing);
    ADD_FAILURE() << "accepted a missing source";
  } catch (const SandboxError& e) {
    EXPECT_NE(std::string(e.what()).find((dir_ / "nope").string()), std::string::npos) << e.what();
  }
}

TEST_F(CriSpecTest, StagingStopsAtTheSizeLimitAndCopiesDirectoriesWithoutFollowingLinks) {
  fs::create_directories(dir_ / "vol");
  Write("vol/data", std::string(2000, 'x'));
  fs::create_symlink("/etc/passwd", dir_ / "vol" / "link");
  const std::vector<ImageFile> files = {{dir_ / "vol", "/srv/vol"}};
  StageImageFiles(files, dir_ / "ok");
  EXPECT_EQ(fs::file_size(dir_ / "ok/srv/vol/data"), 2000u);
  EXPECT_TRUE(fs::is_symlink(dir_ / "ok/srv/vol/link"));
  EXPECT_THROW(StageImageFiles(files, dir_ / "small", 1000), SandboxError);
}

TEST(CriIdentity, ReadsTheContainerTypeAnnotation) {
  const json sandbox = {{"annotations", {{kCriContainerTypeAnnotation, "sandbox"}, {kCriSandboxIdAnnotation, "p1"}}}};
  const json container = {{"annotations", {{kCriContainerTypeAnnotation, "container"}, {kCriSandboxIdAnnotation, "p1"}}}};
  const json plain = {{"annotations", {{kCriSandboxIdAnnotation, "p1"}}}};
  EXPECT_EQ(CriIdentityOf(sandbox).role, CriRole::kSandbox);
  EXPECT_EQ(CriIdentityOf(container).role, CriRole::kContainer);
  EXPECT_EQ(CriIdentityOf(container).sandbox_id, "p1");
  EXPECT_EQ(CriIdentityOf(plain).role, CriRole::kNone);
  EXPECT_EQ(CriIdentityOf(json::array()).role, CriRole::kNone);
}

TEST(CriNamespaces, PathsPointAtTheSandboxInTheGuestExceptTheNetwork) {
  json config = {{"linux",
                  {{"namespaces",
                    {{{"type", "pid"}, {"path", "/proc/4242/ns/pid"}},
                     {{"type", "ipc"}, {"path", "/proc/4242/ns/ipc"}},
                     {{"type", "uts"}, {"path", "/proc/4242/ns/uts"}},
                     {{"type", "network"}, {"path", "/proc/4242/ns/net"}},
                     {{"type", "mount"}}}}}}};
  EXPECT_EQ(JoinSandboxNamespaces(config, 7), 3);
  const json& ns = config["linux"]["namespaces"];
  EXPECT_EQ(ns[0]["path"], "/proc/7/ns/pid");
  EXPECT_EQ(ns[1]["path"], "/proc/7/ns/ipc");
  EXPECT_EQ(ns[2]["path"], "/proc/7/ns/uts");
  EXPECT_EQ(ns[3]["path"], "/proc/4242/ns/net");
  EXPECT_FALSE(ns[4].contains("path"));
  json none = {{"process", json::object()}};
  EXPECT_EQ(JoinSandboxNamespaces(none, 7), 0);
}

TEST(CriNamespaces, OwnPidNamespaceOnlyWithoutAPath) {
  const json own = {{"linux", {{"namespaces", {{{"type", "mount"}}, {{"type", "pid"}}}}}}};
  const json joined = {{"linux", {{"namespaces", {{{"type", "pid"}, {"path", "/proc/7/ns/pid"}}}}}}};
  const json none = {{"linux", {{"namespaces", {{{"type", "mount"}}}}}}};
  EXPECT_TRUE(HasOwnPidNamespace(own));
  EXPECT_FALSE(HasOwnPidNamespace(joined));
  EXPECT_FALSE(HasOwnPidNamespace(none));
  EXPECT_FALSE(HasOwnPidNamespace(json::object()));
}

TEST(FilesOverTree, LaysTheFilesOverTheTreeReadOnly) {
  const vm_sandbox::RootfsMount m = vm_sandbox::FilesOverTree("/run/hull/shim/p/binds-c", "/b/rootfs");
  EXPECT_EQ(m.type, "overlay");
  EXPECT_EQ(m.options, (std::vector<std::string>{"ro", "lowerdir=/run/hull/shim/p/binds-c:/b/rootfs"}));
  EXPECT_THROW(vm_sandbox::FilesOverTree("/a:b", "/b"), SandboxError);
  EXPECT_THROW(vm_sandbox::FilesOverTree("/a", "b,c"), SandboxError);
  EXPECT_THROW(vm_sandbox::FilesOverTree("rel", "/b"), SandboxError);
}

}  // namespace
}  // namespace hull::shim
