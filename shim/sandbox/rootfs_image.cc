#include "sandbox/rootfs_image.h"

#include <system_error>

#include "sandbox/sandbox_error.h"
#include "sandbox/subprocess.h"

namespace hull::shim {

void BuildErofsImage(const std::filesystem::path& rootfs_dir, const std::filesystem::path& image) {
  std::error_code ec;
  if (!std::filesystem::is_directory(rootfs_dir, ec)) {
    throw SandboxError("container root filesystem " + rootfs_dir.string() +
                       " is not a directory (check root.path in config.json)");
  }
  // Build next to the target and rename, so a crash never leaves a half image
  // that a later run would take for a finished one.
  const std::filesystem::path partial = image.string() + ".partial";
  std::filesystem::remove(partial, ec);
  try {
    // -T0 and a fixed UUID: same tree, same bytes (reproducible images).
    RunCommandOrThrow({"mkfs.erofs", "-T0", "-U", "6c6c7568-0000-4000-8000-000000000000", "--quiet", partial.string(), rootfs_dir.string()},
                      "building the erofs rootfs image");
  } catch (...) {
    std::filesystem::remove(partial, ec);
    throw;
  }
  std::filesystem::rename(partial, image, ec);
  if (ec) {
    std::filesystem::remove(partial, ec);
    throw SandboxError("cannot move the rootfs image into place at " + image.string() + ": " +
                       ec.message());
  }
}

}  // namespace hull::shim
