// The sandbox's one virtio-fs share (Kata's shared directory, without its
// separate virtiofsd: hull-vmm serves it itself). At boot the shim makes
// <state dir>/share, a shared mount point, and hands it to hull-vmm as the
// tag "hullshare"; the agent mounts it once at /run/hull/share. For each
// container the shim then mounts below it, on the host:
//   <share>/<container id>/rootfs         the snapshot (containerd's mounts)
//   <share>/<container id>/volumes/<n>    the n-th bind mount's source
// and the guest sees them at once, with no device hot-plug: the agent takes
// /run/hull/share/<id>/rootfs as the container's root (writable: writes land
// in the snapshot's upper directory, as with runc) and bind-mounts the
// volumes from there. A jailed VMM sees the share through a slave bind
// mount (hull-jailer --share-dir), so the mounts made after boot reach it.
// What a guest can reach over FUSE is this directory tree and nothing else.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "vm_sandbox/rootfs_mounts.h"

namespace hull::vm_sandbox {

// A bad io.hull.rootfs or HULL_ROOTFS value, or a bind mount the share cannot take.
class PodShareError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr char kRootfsAnnotation[] = "io.hull.rootfs";
inline constexpr char kRootfsVariable[] = "HULL_ROOTFS";
inline constexpr char kShareTag[] = "hullshare";
inline constexpr char kGuestShareDir[] = "/run/hull/share";

// How a sandbox's containers get their rootfs: a read-only erofs image built
// from the snapshot (the default), or the snapshot itself over virtio-fs.
enum class RootfsMode { kErofs, kVirtioFs };

// The first container's annotation io.hull.rootfs, else `variable` (the
// value of HULL_ROOTFS in containerd's environment; null or empty: erofs).
// Throws PodShareError for a value other than "erofs" or "virtiofs".
RootfsMode RootfsModeOf(const nlohmann::json& spec, const char* variable);

// Where a container's pieces appear in the guest.
std::string GuestRootfsDir(const std::string& container_id);
std::string GuestVolumePath(const std::string& container_id, size_t index);

// A bind mount of the container's spec served through the share.
struct ShareBind {
  std::filesystem::path source;  // host file or directory
  bool directory = false;
  bool read_only = false;
  bool recursive = false;        // rbind
};

// Rewrites `spec`'s bind mounts to their place in the guest's share (the
// n-th at GuestVolumePath(id, n), type and options kept, so the agent binds
// it read-only when asked) and returns what the host must mount there. A
// bind of /dev/shm becomes a private tmpfs instead (the host's shm means
// nothing in the guest), as with the erofs path. Throws PodShareError for a
// bad container id, a destination that is relative, "/" or has "..", or a
// source that is missing or neither a file nor a directory.
std::vector<ShareBind> ShareBindMounts(nlohmann::json& spec, const std::string& container_id);

// The share on the host: RAII for its mount point and everything mounted
// below it. Not thread-safe (the sandbox's lock guards it).
class PodShare {
 public:
  // Creates `root` (0700) and makes it a shared mount point (a bind onto
  // itself). Throws SandboxError; nothing is left then.
  explicit PodShare(std::filesystem::path root);
  // Detaches everything below the share and the share itself, then removes
  // its directories (only once nothing is mounted there any more).
  ~PodShare();
  PodShare(const PodShare&) = delete;
  PodShare& operator=(const PodShare&) = delete;

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path RootfsDir(const std::string& container_id) const;
  std::filesystem::path VolumePath(const std::string& container_id, size_t index) const;

  // Mounts the container's rootfs (containerd's `rootfs_mounts`, or a bind
  // of `rootfs_dir` when there are none) and its binds below the share.
  // Throws SandboxError having undone its own mounts.
  void AddContainer(const std::string& container_id, const std::vector<RootfsMount>& rootfs_mounts,
                    const std::filesystem::path& rootfs_dir, const std::vector<ShareBind>& binds);
  // Unmounts (lazily, as the VMM may still hold files open) and removes the
  // container's part of the share. Unknown ids are ignored.
  void RemoveContainer(const std::string& container_id);
  bool HasContainer(const std::string& container_id) const { return containers_.count(container_id) != 0; }

 private:
  std::filesystem::path root_;
  std::map<std::string, std::unique_ptr<MountedRootfs>> containers_;
};

}  // namespace hull::vm_sandbox
