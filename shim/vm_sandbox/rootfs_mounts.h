// containerd hands a task its root filesystem as a list of mounts (an overlay
// of snapshot layers, or a bind of a native snapshot). The shim mounts them on
// the bundle's rootfs/ just long enough to turn the tree into a disk image.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace hull::vm_sandbox {

struct RootfsMount {
  std::string type;     // "overlay", "bind", "ext4", ...
  std::string source;
  std::vector<std::string> options;  // as in /etc/fstab: "ro", "lowerdir=...", ...
};

struct ParsedMountOptions {
  unsigned long flags = 0;  // MS_* for mount(2)
  std::string data;         // the rest, comma-joined, for the filesystem
  bool bind = false;        // MS_BIND requested ("bind"/"rbind" option or type)
};

// Splits fstab-style options into mount(2) flags and filesystem data, the way
// containerd's mount package does.
ParsedMountOptions ParseMountOptions(const std::string& type, const std::vector<std::string>& options);

// The snapshot layers a rootfs is made of, for the image cache: the lower
// directories (top first) and the upper one (empty path: none). Known for a
// single overlay mount (containerd's overlayfs snapshotter) and a single
// read-only bind (a one-layer view); nullopt for any other shape, or a
// lowerdir with escaped characters that this parser does not undo.
struct SnapshotLayers {
  std::vector<std::filesystem::path> lowerdirs;
  std::filesystem::path upperdir;
};
std::optional<SnapshotLayers> SnapshotLayersOf(const std::vector<RootfsMount>& mounts);

// The mount that lays `files_dir` over `tree`, read-only (an overlay of two
// lower layers, no upper): the tree a container's image is built from when
// the snapshots of its bind mounts go into it (shim::TakeBindsIntoImage).
// Throws SandboxError for a path overlayfs cannot take as a layer (':', ','
// or '\\' in it, or relative).
RootfsMount FilesOverTree(const std::filesystem::path& files_dir, const std::filesystem::path& tree);

// Mounts `mounts` onto `target` in order; on failure unmounts what it mounted
// and throws SandboxError naming the mount. The returned guard unmounts them.
class MountedRootfs {
 public:
  MountedRootfs(const std::vector<RootfsMount>& mounts, std::filesystem::path target);
  ~MountedRootfs();
  MountedRootfs(const MountedRootfs&) = delete;
  MountedRootfs& operator=(const MountedRootfs&) = delete;

  const std::filesystem::path& target() const { return target_; }

 private:
  void UnmountAll() noexcept;
  std::filesystem::path target_;
  int mounted_ = 0;
};

}  // namespace hull::vm_sandbox
