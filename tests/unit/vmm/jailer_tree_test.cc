#include "jailer/jail_tree.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fstream>

#include "jailer/jailer_error.h"
#include "jailer/safe_remove.h"

namespace hull::vmm::jailer {
namespace {
namespace fs = std::filesystem;

class JailTree : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("jailer-tree-" + std::to_string(::getpid()));
    fs::create_directories(base_);
  }
  void TearDown() override { fs::remove_all(base_); }
  fs::path base_;
};

TEST_F(JailTree, CreatesTheJailOnceAndPlaceholdersAtMirroredPaths) {
  JailLayout layout(base_, "/usr/bin/hull-vmm", "vm-1");
  CreateJailDir(layout);
  EXPECT_TRUE(fs::is_directory(base_ / "hull-vmm/vm-1/root"));
  try {
    CreateJailDir(layout);
    FAIL() << "a second jail with the same id was made";
  } catch (const JailerError& e) {
    EXPECT_NE(std::string(e.what()).find("--cleanup"), std::string::npos) << e.what();
  }
  CreatePlaceholder(layout, "/work/guest/bzImage");
  EXPECT_TRUE(fs::is_regular_file(layout.root() / "work/guest/bzImage"));
  EXPECT_EQ(fs::file_size(layout.root() / "work/guest/bzImage"), 0u);
  CreatePlaceholder(layout, "/work/guest/bzImage");  // named twice: fine
}

TEST_F(JailTree, NeverFollowsASymlinkInsideTheRoot) {
  JailLayout layout(base_, "/usr/bin/hull-vmm", "vm-1");
  CreateJailDir(layout);
  fs::create_directories(base_ / "outside");
  fs::create_directory_symlink(base_ / "outside", layout.root() / "run");
  EXPECT_THROW(CreatePlaceholder(layout, "/run/x.img"), JailerError);
  EXPECT_THROW(CreateOwnedDir(layout, "/run/sock", 1000, 1000), JailerError);
  EXPECT_TRUE(fs::is_empty(base_ / "outside"));
}

TEST_F(JailTree, SocketDirAndDeviceNodesBelongToTheVmmUid) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown and mknod need root";
  if (!fs::exists("/dev/kvm")) GTEST_SKIP() << "this host has no /dev/kvm to mirror";
  JailLayout layout(base_, "/usr/bin/hull-vmm", "vm-1");
  CreateJailDir(layout);
  CreateOwnedDir(layout, "/run/hull/shim/7", 1234567, 7654321);
  struct stat st {};
  ASSERT_EQ(::stat((layout.root() / "run/hull/shim/7").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1234567u);
  EXPECT_EQ(st.st_gid, 7654321u);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(::stat((layout.root() / "run").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);  // parents stay root's
  CreateDeviceNode(layout, "/dev/kvm", 1234567, 7654321);
  struct stat host {};
  ASSERT_EQ(::stat("/dev/kvm", &host), 0);
  ASSERT_EQ(::stat((layout.root() / "dev/kvm").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, host.st_rdev);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, 1234567u);
}

TEST_F(JailTree, SafeRemoveDropsLinksNotTheFilesTheyPointAt) {
  const fs::path keep = base_ / "host-file";
  std::ofstream(keep) << "precious";
  const fs::path jail = base_ / "jail";
  fs::create_directories(jail / "a/b");
  fs::create_hard_link(keep, jail / "a/b/hardlink");
  fs::create_symlink(keep, jail / "a/symlink");
  fs::create_directory_symlink(base_, jail / "a/dirlink");  // would loop into the host's tree
  RemoveTreeOnOneFileSystem(jail);
  EXPECT_FALSE(fs::exists(jail));
  ASSERT_TRUE(fs::exists(keep));
  std::ifstream in(keep);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
  EXPECT_NO_THROW(RemoveTreeOnOneFileSystem(jail));  // gone already: fine
}

}  // namespace
}  // namespace hull::vmm::jailer
