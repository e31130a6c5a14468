// Removes a jail directory tree without ever leaving its file system or
// following a symlink: a bind mount or link planted in a jail must not make
// cleanup delete host files. Everything else is unlinked (hard links only
// drop the jail's name; the host's file stays).
#pragma once

#include <filesystem>

namespace hull::vmm::jailer {

// Throws JailerError naming the entry it refused or failed to remove.
// A missing `dir` is not an error.
void RemoveTreeOnOneFileSystem(const std::filesystem::path& dir);

}  // namespace hull::vmm::jailer
