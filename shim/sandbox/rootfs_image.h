// Turns a container's root filesystem directory into a read-only erofs disk
// image for virtio-blk; the guest puts a writable overlay on top of it.
// Images of containerd snapshots are cached by their layer chain, so the
// second container of an image builds nothing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace hull::shim {

// Builds `image` from `rootfs_dir` (owners, modes and timestamps kept, so the
// same tree gives the same bytes). Throws SandboxError naming the problem.
void BuildErofsImage(const std::filesystem::path& rootfs_dir, const std::filesystem::path& image);

// The cache key of an overlay rootfs: its lower snapshot directories (top
// first, as overlayfs' lowerdir lists them), each with its device, inode and
// change time, so a snapshot removed and recreated under the same path is a
// new key. containerd never changes a committed (lower) snapshot. nullopt
// when the tree is not just its layers: an upper directory that already has
// content, no lower directory, or one that cannot be stat'ed.
std::optional<std::string> LayerChainCacheKey(const std::vector<std::filesystem::path>& lowerdirs,
                                              const std::filesystem::path& upperdir);

// A directory of erofs images named by cache key. A sandbox takes an image as
// a hard link into its own state directory, so an image is in use exactly
// while its link count is above one, and removing a sandbox's directory is
// all it takes to release it. Several shims may share one cache: images are
// built under a unique temporary name and published with link(2), which
// fails instead of replacing when another shim published the same key first.
class RootfsImageCache {
 public:
  RootfsImageCache(std::filesystem::path dir, uint64_t max_bytes);

  // Puts the image for `key` at `dest` (a new hard link; `dest` must be on the
  // cache's filesystem and not exist), calling `build(path)` to make it when
  // no cached copy exists. Returns true when the image came from the cache.
  // Afterwards evicts unused images, oldest first, beyond the size bound.
  bool Provide(const std::string& key, const std::filesystem::path& dest,
               const std::function<void(const std::filesystem::path&)>& build);

  // Removes images no sandbox links to, least recently used first, until the
  // cache holds at most `max_bytes`; and temporary files of builds that died.
  void Evict();

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path EntryPath(const std::string& key) const;

 private:
  std::filesystem::path dir_;
  uint64_t max_bytes_;
};

}  // namespace hull::shim
