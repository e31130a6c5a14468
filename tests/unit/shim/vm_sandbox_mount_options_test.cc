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

TEST(SnapshotLayersTest, OverlaySnapshotGivesItsLowerChainAndUpper) {
  // As containerd's overlayfs snapshotter hands an active snapshot to a shim.
  auto layers = SnapshotLayersOf({{"overlay", "overlay",
                                   {"index=off", "workdir=/s/9/work", "upperdir=/s/9/fs", "lowerdir=/s/2/fs:/s/1/fs"}}});
  ASSERT_TRUE(layers);
  ASSERT_EQ(layers->lowerdirs.size(), 2u);
  EXPECT_EQ(layers->lowerdirs[0], "/s/2/fs");
  EXPECT_EQ(layers->lowerdirs[1], "/s/1/fs");
  EXPECT_EQ(layers->upperdir, "/s/9/fs");
}

TEST(SnapshotLayersTest, ReadOnlyBindIsOneLayerAndWritableBindIsNone) {
  auto view = SnapshotLayersOf({{"bind", "/s/1/fs", {"ro", "rbind"}}});
  ASSERT_TRUE(view);
  ASSERT_EQ(view->lowerdirs.size(), 1u);
  EXPECT_EQ(view->lowerdirs[0], "/s/1/fs");
  EXPECT_TRUE(view->upperdir.empty());
  // The native snapshotter's active snapshot: a private copy, not a layer.
  EXPECT_FALSE(SnapshotLayersOf({{"bind", "/s/5", {"rw", "rbind"}}}));
}

TEST(SnapshotLayersTest, OtherShapesAreNotCacheable) {
  EXPECT_FALSE(SnapshotLayersOf({}));
  EXPECT_FALSE(SnapshotLayersOf({{"ext4", "/dev/sda1", {"ro"}}}));
  EXPECT_FALSE(SnapshotLayersOf({{"overlay", "overlay", {"upperdir=/u"}}}));  // no lowerdir
  EXPECT_FALSE(SnapshotLayersOf({{"overlay", "overlay", {"lowerdir=/a::/b"}}}));
  EXPECT_FALSE(SnapshotLayersOf({{"overlay", "overlay", {"lowerdir=/a\\:b"}}}));  // escaped colon
  EXPECT_FALSE(SnapshotLayersOf({{"bind", "/a", {"ro"}}, {"bind", "/b", {"ro"}}}));
}

}  // namespace
}  // namespace hull::vm_sandbox
