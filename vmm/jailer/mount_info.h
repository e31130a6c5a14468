// Reading /proc/self/mountinfo: whether a directory is a mount point whose
// mounts propagate (a share the host will mount containers below after the
// VMM started must be one, or they never reach the jail).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace hull::vmm::jailer {

struct MountPoint {
  std::filesystem::path path;  // octal escapes (\040 for ' ') undone
  bool shared = false;         // a "shared:N" optional field
};

// The mount at `path` in `mountinfo` (the text of a /proc/<pid>/mountinfo;
// the last one listed there, which is the one on top), or nullopt when
// `path` is no mount point.
std::optional<MountPoint> FindMountPoint(std::string_view mountinfo, const std::filesystem::path& path);

// The text of /proc/self/mountinfo; throws JailerError when unreadable.
std::string ReadOwnMountInfo();

}  // namespace hull::vmm::jailer
