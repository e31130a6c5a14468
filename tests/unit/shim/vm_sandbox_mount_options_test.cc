#include <sys/mount.h>

#include <gtest/gtest.h>

#include "vm_sandbox/rootfs_mounts.h"

namespace hull::vm_sandbox {
namespace {

TEST(MountOptionsTest, OverlayKeepsLayerOptionsAsData) {
  auto p = ParseMountOptions("overlay", {"index=off", "workdir=/w", "upperdir=/u", "lowerdir=/a:/b"});
  EXPECT_EQ(p.flags, 0u);
  EXPECT_EQ(p.data, "index=off,workdir=/w,upperdir=/u,lowerdir=/a:/b");
  EXPECT_FALSE(p.bind);
}

TEST(MountOptionsTest, FlagsSetAndClearInOrder) {
  auto p = ParseMountOptions("bind", {"rbind", "ro", "nosuid", "rw"});
  EXPECT_TRUE(p.bind);
  EXPECT_EQ(p.flags & MS_RDONLY, 0u);  // "rw" after "ro" clears it
  EXPECT_NE(p.flags & MS_NOSUID, 0u);
  EXPECT_NE(p.flags & MS_REC, 0u);
  EXPECT_TRUE(p.data.empty());
}

TEST(MountOptionsTest, BindTypeImpliesBind) {
  auto p = ParseMountOptions("bind", {"ro"});
  EXPECT_TRUE(p.bind);
  EXPECT_NE(p.flags & MS_RDONLY, 0u);
}

}  // namespace
}  // namespace hull::vm_sandbox
