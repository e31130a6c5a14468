// Resolves paths inside a container rootfs without letting symlinks or ".."
// escape it (openat2 RESOLVE_IN_ROOT), creating what is missing on the way.
#pragma once

#include <string>

#include "runtime/unique_fd.h"

namespace hull::runtime {

enum class CreateAs { nothing, directory, file };

// An O_PATH descriptor of `path` (absolute, as the container sees it) inside the
// directory `root_fd`. Missing parents are created as directories and a missing
// last component as `create`. Throws RuntimeError naming the path.
UniqueFd open_in_root(int root_fd, const std::string& path, CreateAs create);

// "/proc/self/fd/N", the name mount(2) accepts for an O_PATH descriptor.
std::string fd_path(int fd);

}  // namespace hull::runtime
