#include "jailer/mount_info.h"

#include <gtest/gtest.h>

namespace hull::vmm::jailer {
namespace {

// Lines as /proc/self/mountinfo writes them (optional fields before " - ").
constexpr char kMountInfo[] =
    "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
    "30 22 0:25 / /run rw,nosuid shared:5 - tmpfs tmpfs rw\n"
    "41 30 0:25 /hull/shim/1/share /run/hull/shim/1/share rw shared:40 - tmpfs tmpfs rw\n"
    "42 30 0:25 /hull/shim/2/share /run/hull/shim/2/share rw - tmpfs tmpfs rw\n"
    "43 30 0:25 /x /run/with\\040space rw shared:41 master:5 - tmpfs tmpfs rw\n"
    "44 30 0:25 /y /run/slave rw master:5 - tmpfs tmpfs rw\n";

TEST(JailerMountInfo, FindsASharedMountPoint) {
  const auto m = FindMountPoint(kMountInfo, "/run/hull/shim/1/share");
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->shared);
  EXPECT_TRUE(FindMountPoint(kMountInfo, "/run/hull/shim/1/share/")->shared) << "a trailing '/' is the same point";
}

TEST(JailerMountInfo, APrivateOrSlaveMountIsNotShared) {
  ASSERT_TRUE(FindMountPoint(kMountInfo, "/run/hull/shim/2/share").has_value());
  EXPECT_FALSE(FindMountPoint(kMountInfo, "/run/hull/shim/2/share")->shared);
  EXPECT_FALSE(FindMountPoint(kMountInfo, "/run/slave")->shared) << "master:N alone is a slave";
}

TEST(JailerMountInfo, APlainDirectoryIsNoMountPoint) {
  EXPECT_FALSE(FindMountPoint(kMountInfo, "/run/hull/shim/3/share").has_value());
  EXPECT_FALSE(FindMountPoint(kMountInfo, "/run/hull").has_value());
}

TEST(JailerMountInfo, EscapedPathsAreDecoded) {
  const auto m = FindMountPoint(kMountInfo, "/run/with space");
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->shared);
}

TEST(JailerMountInfo, TheTopmostOfStackedMountsCounts) {
  const std::string stacked = std::string(kMountInfo) + "50 41 0:25 /z /run/hull/shim/1/share rw - tmpfs tmpfs rw\n";
  EXPECT_FALSE(FindMountPoint(stacked, "/run/hull/shim/1/share")->shared);
}

TEST(JailerMountInfo, OwnMountInfoHasTheRoot) {
  const auto root = FindMountPoint(ReadOwnMountInfo(), "/");
  EXPECT_TRUE(root.has_value()) << "no '/' in /proc/self/mountinfo";
}

}  // namespace
}  // namespace hull::vmm::jailer
