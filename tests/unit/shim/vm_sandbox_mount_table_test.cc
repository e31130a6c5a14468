#include "vm_sandbox/mount_table.h"

#include <gtest/gtest.h>

namespace hull::vm_sandbox {
namespace {
namespace fs = std::filesystem;

constexpr char kMountInfo[] =
    "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
    "30 22 0:25 / /run rw,nosuid shared:5 - tmpfs tmpfs rw\n"
    "41 30 0:25 /s /run/hull/shim/1/share rw shared:40 - tmpfs tmpfs rw\n"
    "42 41 0:30 / /run/hull/shim/1/share/c1/rootfs rw shared:41 - overlay overlay rw,lowerdir=/l\n"
    "43 41 0:25 /v /run/hull/shim/1/share/c1/volumes/0 rw shared:42 - tmpfs tmpfs rw\n"
    "44 30 0:25 /o /run/hull/shim/10/share rw shared:43 - tmpfs tmpfs rw\n"
    "45 41 0:25 /w /run/hull/shim/1/share/c\\0402/rootfs rw - tmpfs tmpfs rw\n"
    "46 42 0:25 /x /run/hull/shim/1/share/c1/rootfs rw - tmpfs tmpfs rw\n";

TEST(VmSandboxMountTable, ListsMountsAtOrBelowDeepestAndLatestFirst) {
  const auto points = MountPointsBelow(kMountInfo, "/run/hull/shim/1");
  const std::vector<fs::path> expected = {
      "/run/hull/shim/1/share/c1/volumes/0",  // the deepest
      "/run/hull/shim/1/share/c1/rootfs",     // equally deep: the later listed first (46, 45, 42)
      "/run/hull/shim/1/share/c 2/rootfs",
      "/run/hull/shim/1/share/c1/rootfs",
      "/run/hull/shim/1/share",
  };
  EXPECT_EQ(points, expected);
}

TEST(VmSandboxMountTable, ASiblingWithTheSamePrefixIsNotBelow) {
  for (const auto& p : MountPointsBelow(kMountInfo, "/run/hull/shim/1")) {
    EXPECT_NE(p, fs::path("/run/hull/shim/10/share")) << "/run/hull/shim/10 is not below /run/hull/shim/1";
  }
  EXPECT_EQ(MountPointsBelow(kMountInfo, "/run/hull/shim/1/share/c1/rootfs").size(), 2u);
  EXPECT_EQ(MountPointsBelow(kMountInfo, "/run/hull/shim/1/").size(), 5u) << "a trailing '/' names the same dir";
  EXPECT_TRUE(MountPointsBelow(kMountInfo, "/run/hull/shim/2").empty());
}

TEST(VmSandboxMountTable, NothingMountedBelowAFreshDirectory) {
  const fs::path dir = fs::temp_directory_path() / "hull-mount-table-test-nothing";
  fs::create_directories(dir);
  EXPECT_TRUE(DetachMountsBelow(dir).empty());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hull::vm_sandbox
