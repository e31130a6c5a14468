// Turns a container's root filesystem directory into a read-only erofs disk
// image for virtio-blk; the guest puts a writable overlay on top of it.
#pragma once

#include <filesystem>

namespace hull::shim {

// Builds `image` from `rootfs_dir` (owners, modes and timestamps kept, so the
// same tree gives the same bytes). Throws SandboxError naming the problem.
void BuildErofsImage(const std::filesystem::path& rootfs_dir, const std::filesystem::path& image);

}  // namespace hull::shim
