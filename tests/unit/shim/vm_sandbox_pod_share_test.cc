#include "vm_sandbox/pod_share.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>

#include "sandbox/sandbox_error.h"
#include "vm_sandbox/mount_table.h"

namespace hull::vm_sandbox {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

std::string ShareErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const PodShareError& e) {
    return e.what();
  }
  return "";
}

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string ReadMountInfo() { return Read("/proc/self/mountinfo"); }

// --- the mode: annotation, then containerd's environment, else erofs ---

TEST(VmSandboxRootfsMode, ErofsUnlessAsked) {
  EXPECT_EQ(RootfsModeOf(json::object(), nullptr), RootfsMode::kErofs);
  EXPECT_EQ(RootfsModeOf(json::object(), ""), RootfsMode::kErofs);
  EXPECT_EQ(RootfsModeOf(json::object(), "virtiofs"), RootfsMode::kVirtioFs);
  EXPECT_EQ(RootfsModeOf(json::object(), "erofs"), RootfsMode::kErofs);
}

TEST(VmSandboxRootfsMode, TheAnnotationWinsOverTheEnvironment) {
  const json virtiofs = {{"annotations", {{"io.hull.rootfs", "virtiofs"}}}};
  const json erofs = {{"annotations", {{"io.hull.rootfs", "erofs"}}}};
  EXPECT_EQ(RootfsModeOf(virtiofs, nullptr), RootfsMode::kVirtioFs);
  EXPECT_EQ(RootfsModeOf(erofs, "virtiofs"), RootfsMode::kErofs);
}

TEST(VmSandboxRootfsMode, ABadValueIsNamedWithWhereItCameFrom) {
  const json typo = {{"annotations", {{"io.hull.rootfs", "virtio-fs"}}}};
  const std::string e1 = ShareErrorOf([&] { RootfsModeOf(typo, nullptr); });
  EXPECT_NE(e1.find("annotation io.hull.rootfs is 'virtio-fs'"), std::string::npos) << e1;
  EXPECT_NE(e1.find("'virtiofs'"), std::string::npos) << "the error names the right spelling: " << e1;
  const std::string e2 = ShareErrorOf([&] { RootfsModeOf(json::object(), "ext4"); });
  EXPECT_NE(e2.find("HULL_ROOTFS in containerd's environment is 'ext4'"), std::string::npos) << e2;
  const json number = {{"annotations", {{"io.hull.rootfs", 1}}}};
  EXPECT_NE(ShareErrorOf([&] { RootfsModeOf(number, nullptr); }), "");
}

// --- the plan: which binds go through the share, and where ---

class ShareBindPlan : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hull-share-plan-" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "vol");
    std::ofstream(dir_ / "hosts") << "127.0.0.1 localhost\n";
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ShareBindPlan, BindsPointIntoTheShareInOrder) {
  json spec = {{"mounts",
                {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
                 {{"destination", "/data"}, {"type", "bind"}, {"source", (dir_ / "vol").string()},
                  {"options", {"rbind", "rw"}}},
                 {{"destination", "/etc/hosts"}, {"type", "bind"}, {"source", (dir_ / "hosts").string()},
                  {"options", {"bind", "ro"}}},
                 {{"destination", "/dev/shm"}, {"type", "bind"}, {"source", "/run/containerd/shm"},
                  {"options", {"rbind"}}}}}};
  const auto binds = ShareBindMounts(spec, "c1");
  ASSERT_EQ(binds.size(), 2u);
  EXPECT_EQ(binds[0].source, dir_ / "vol");
  EXPECT_TRUE(binds[0].directory);
  EXPECT_TRUE(binds[0].recursive);
  EXPECT_FALSE(binds[0].read_only);
  EXPECT_EQ(binds[1].source, dir_ / "hosts");
  EXPECT_FALSE(binds[1].directory);
  EXPECT_TRUE(binds[1].read_only);
  EXPECT_EQ(spec["mounts"][0]["source"], "proc") << "only binds change";
  EXPECT_EQ(spec["mounts"][1]["source"], "/run/hull/share/c1/volumes/0");
  EXPECT_EQ(spec["mounts"][1]["options"], json({"rbind", "rw"})) << "the guest binds with the same options";
  EXPECT_EQ(spec["mounts"][2]["source"], "/run/hull/share/c1/volumes/1");
  EXPECT_EQ(spec["mounts"][3]["type"], "tmpfs") << "the host's shm means nothing in the guest";
  EXPECT_EQ(GuestRootfsDir("c1"), "/run/hull/share/c1/rootfs");
}

TEST_F(ShareBindPlan, BadDestinationsSourcesAndIdsAreRefused) {
  json relative = {{"mounts", {{{"destination", "data"}, {"type", "bind"}, {"source", dir_.string()}}}}};
  EXPECT_NE(ShareErrorOf([&] { ShareBindMounts(relative, "c1"); }).find("absolute path"), std::string::npos);
  json climbing = {{"mounts", {{{"destination", "/a/../../x"}, {"type", "bind"}, {"source", dir_.string()}}}}};
  EXPECT_NE(ShareErrorOf([&] { ShareBindMounts(climbing, "c1"); }).find("'..'"), std::string::npos);
  json missing = {{"mounts", {{{"destination", "/x"}, {"type", "bind"}, {"source", (dir_ / "nope").string()}}}}};
  EXPECT_NE(ShareErrorOf([&] { ShareBindMounts(missing, "c1"); }).find("does not exist"), std::string::npos);
  json fine = {{"mounts", json::array()}};
  for (const char* id : {"", "../up", "a/b", ".hidden", "-x"}) {
    EXPECT_NE(ShareErrorOf([&] { ShareBindMounts(fine, id); }).find("cannot name a directory"), std::string::npos)
        << "id '" << id << "'";
  }
  json no_mounts = json::object();
  EXPECT_TRUE(ShareBindMounts(no_mounts, "c1").empty());
}

// --- the share itself: real mounts, in a mount namespace of this test's own ---

class PodShareMounts : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting needs root (the share is a mount point): not root here";
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      GTEST_SKIP() << "no mount namespace of its own for this test (" << std::strerror(errno) << ")";
    }
    dir_ = fs::temp_directory_path() / ("hull-pod-share-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    // A tmpfs of its own: overlayfs needs an upper layer that is no overlay.
    ASSERT_EQ(::mount("tmpfs", dir_.c_str(), "tmpfs", 0, nullptr), 0) << std::strerror(errno);
    for (const char* d : {"lower/etc", "upper", "work", "vol", "state"}) fs::create_directories(dir_ / d);
    std::ofstream(dir_ / "lower/etc/os-release") << "busybox\n";
    std::ofstream(dir_ / "vol/from-host") << "host wrote this\n";
    std::ofstream(dir_ / "hosts") << "10.0.0.1 pod\n";
  }
  void TearDown() override {
    if (dir_.empty()) return;
    ::umount2(dir_.c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::vector<RootfsMount> Overlay() const {
    return {{"overlay",
             "overlay",
             {"lowerdir=" + (dir_ / "lower").string(), "upperdir=" + (dir_ / "upper").string(),
              "workdir=" + (dir_ / "work").string()}}};
  }
  fs::path dir_;
};

TEST_F(PodShareMounts, RootfsAndVolumesAreLiveAndGoAwayCleanly) {
  const fs::path root = dir_ / "state/share";
  {
    PodShare share(root);
    const auto points = MountPointsBelow(ReadMountInfo(), root);
    ASSERT_EQ(points.size(), 1u);
    EXPECT_NE(ReadMountInfo().find(" " + root.string() + " rw"), std::string::npos);
    std::vector<ShareBind> binds = {{dir_ / "vol", true, false, false}, {dir_ / "hosts", false, true, false}};
    share.AddContainer("c1", Overlay(), {}, binds);
    EXPECT_EQ(Read(root / "c1/rootfs/etc/os-release"), "busybox\n");
    // The container writes: it lands in the snapshot's upper layer, as with runc.
    std::ofstream(root / "c1/rootfs/etc/written") << "guest\n";
    EXPECT_EQ(Read(dir_ / "upper/etc/written"), "guest\n");
    // A volume is the host's directory itself, both ways.
    EXPECT_EQ(Read(root / "c1/volumes/0/from-host"), "host wrote this\n");
    std::ofstream(dir_ / "vol/later") << "after the mount\n";
    EXPECT_EQ(Read(root / "c1/volumes/0/later"), "after the mount\n");
    std::ofstream(root / "c1/volumes/0/from-guest") << "back\n";
    EXPECT_EQ(Read(dir_ / "vol/from-guest"), "back\n");
    // A read-only volume is read-only on the host side too.
    EXPECT_EQ(Read(root / "c1/volumes/1"), "10.0.0.1 pod\n");
    std::ofstream ro(root / "c1/volumes/1", std::ios::app);
    EXPECT_FALSE(ro.is_open() && (ro << "x").flush()) << "a read-only volume was writable in the share";
    // The share propagates: it is a shared mount point, and so are its children.
    for (const auto& point : {root, root / "c1/rootfs", root / "c1/volumes/0"}) {
      bool shared = false;
      std::istringstream lines(ReadMountInfo());
      for (std::string line; std::getline(lines, line);) {
        if (line.find(" " + point.string() + " ") != std::string::npos && line.find("shared:") != std::string::npos) {
          shared = true;
        }
      }
      EXPECT_TRUE(shared) << point << " is not a shared mount";
    }
    share.RemoveContainer("c1");
    EXPECT_EQ(MountPointsBelow(ReadMountInfo(), root).size(), 1u) << "the container's mounts stayed";
    EXPECT_FALSE(fs::exists(root / "c1"));
    // Removing the container's part never deleted through its mounts.
    EXPECT_EQ(Read(dir_ / "vol/from-host"), "host wrote this\n");
    EXPECT_EQ(Read(dir_ / "upper/etc/written"), "guest\n");
    EXPECT_EQ(Read(dir_ / "hosts"), "10.0.0.1 pod\n");
    share.RemoveContainer("never-added");  // ignored
  }
  EXPECT_TRUE(MountPointsBelow(ReadMountInfo(), dir_ / "state").empty());
  EXPECT_FALSE(fs::exists(root));
}

TEST_F(PodShareMounts, GoingAwayWithContainersInsideKeepsTheirFiles) {
  const fs::path root = dir_ / "state/share";
  {
    PodShare share(root);
    share.AddContainer("c1", {}, dir_ / "lower", {{dir_ / "vol", true, false, true}});
    share.AddContainer("c2", Overlay(), {}, {});
    EXPECT_EQ(Read(root / "c1/rootfs/etc/os-release"), "busybox\n") << "a rootfs directory is bound in";
    EXPECT_EQ(Read(root / "c2/rootfs/etc/os-release"), "busybox\n");
  }
  EXPECT_TRUE(MountPointsBelow(ReadMountInfo(), dir_ / "state").empty());
  EXPECT_FALSE(fs::exists(root));
  EXPECT_EQ(Read(dir_ / "lower/etc/os-release"), "busybox\n");
  EXPECT_EQ(Read(dir_ / "vol/from-host"), "host wrote this\n");
}

TEST_F(PodShareMounts, AFailedAddLeavesNothing) {
  const fs::path root = dir_ / "state/share";
  PodShare share(root);
  // The second volume is gone by the time it is mounted.
  std::vector<ShareBind> binds = {{dir_ / "vol", true, false, false}, {dir_ / "gone", true, false, false}};
  EXPECT_THROW(share.AddContainer("c1", Overlay(), {}, binds), shim::SandboxError);
  EXPECT_FALSE(share.HasContainer("c1"));
  EXPECT_FALSE(fs::exists(root / "c1"));
  EXPECT_EQ(MountPointsBelow(ReadMountInfo(), root).size(), 1u) << "mounts of the failed container stayed";
  EXPECT_EQ(Read(dir_ / "vol/from-host"), "host wrote this\n");
  EXPECT_THROW(share.AddContainer("../c", Overlay(), {}, {}), shim::SandboxError);
  share.AddContainer("c1", Overlay(), {}, {});
  EXPECT_THROW(share.AddContainer("c1", Overlay(), {}, {}), shim::SandboxError) << "twice the same id";
}

TEST_F(PodShareMounts, AShareThatExistsAlreadyIsRefused) {
  fs::create_directories(dir_ / "state/share");
  EXPECT_THROW(PodShare(dir_ / "state/share"), shim::SandboxError);
  EXPECT_TRUE(MountPointsBelow(ReadMountInfo(), dir_ / "state").empty());
}

}  // namespace
}  // namespace hull::vm_sandbox
