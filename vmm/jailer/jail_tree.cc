#include "jailer/jail_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "jailer/jailer_error.h"

namespace hull::vmm::jailer {
namespace fs = std::filesystem;

namespace {

// mkdir -p under the root without following symlinks: every component is
// either created here or must already be a real directory.
void MakeParents(const JailLayout& layout, const fs::path& path) {
  fs::path current = layout.root();
  const fs::path parent = path.parent_path();
  for (const auto& part : parent.relative_path()) {
    current /= part;
    if (::mkdir(current.c_str(), 0755) == 0) continue;
    if (errno != EEXIST) throw JailerError::FromErrno("cannot create " + current.string(), errno);
    struct stat st {};
    if (::lstat(current.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      throw JailerError(current.string() + " exists and is not a directory (a symlink?): refusing to follow it");
    }
  }
}

}  // namespace

void CreateJailDir(const JailLayout& layout) {
  std::error_code ec;
  fs::create_directories(layout.jail_dir().parent_path(), ec);
  if (ec) throw JailerError("cannot create " + layout.jail_dir().parent_path().string() + ": " + ec.message());
  if (::mkdir(layout.jail_dir().c_str(), 0755) != 0) {
    if (errno == EEXIST) {
      throw JailerError("the jail " + layout.jail_dir().string() +
                        " already exists: a VMM with this id runs, or a stale jail was left behind "
                        "(hull-jailer --cleanup --id ID removes it)");
    }
    throw JailerError::FromErrno("cannot create the jail " + layout.jail_dir().string(), errno);
  }
  if (::mkdir(layout.root().c_str(), 0755) != 0) {
    throw JailerError::FromErrno("cannot create " + layout.root().string(), errno);
  }
}

void CreatePlaceholder(const JailLayout& layout, const fs::path& path) {
  const fs::path target = layout.InRoot(path);
  MakeParents(layout, path);
  const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
  if (fd < 0) {
    if (errno == EEXIST) return;  // the same file named twice
    throw JailerError::FromErrno("cannot create " + target.string(), errno);
  }
  ::close(fd);
}

void CreateMountPointDir(const JailLayout& layout, const fs::path& path) {
  const fs::path target = layout.InRoot(path);
  MakeParents(layout, path);
  if (::mkdir(target.c_str(), 0755) != 0 && errno != EEXIST) {
    throw JailerError::FromErrno("cannot create " + target.string(), errno);
  }
  struct stat st {};
  if (::lstat(target.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw JailerError(target.string() + " is not a directory");
  }
}

void CreateOwnedDir(const JailLayout& layout, const fs::path& path, uid_t uid, gid_t gid) {
  const fs::path target = layout.InRoot(path);
  MakeParents(layout, path);
  if (::mkdir(target.c_str(), 0700) != 0 && errno != EEXIST) {
    throw JailerError::FromErrno("cannot create " + target.string(), errno);
  }
  struct stat st {};
  if (::lstat(target.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw JailerError(target.string() + " is not a directory");
  }
  if (::lchown(target.c_str(), uid, gid) != 0 || ::chmod(target.c_str(), 0700) != 0) {
    throw JailerError::FromErrno("cannot hand " + target.string() + " to the VMM's uid", errno);
  }
}

void CreateDeviceNode(const JailLayout& layout, const fs::path& node, uid_t uid, gid_t gid) {
  struct stat host {};
  if (::stat(node.c_str(), &host) != 0) {
    throw JailerError::FromErrno("the host has no " + node.string() + " (load its kernel module)", errno);
  }
  if (!S_ISCHR(host.st_mode)) throw JailerError(node.string() + " on the host is not a character device");
  const fs::path target = layout.InRoot(node);
  MakeParents(layout, node);
  if (::mknod(target.c_str(), S_IFCHR | 0600, host.st_rdev) != 0) {
    throw JailerError::FromErrno("mknod " + target.string() + " (" + std::to_string(major(host.st_rdev)) + ":" +
                                     std::to_string(minor(host.st_rdev)) + ")",
                                 errno);
  }
  if (::lchown(target.c_str(), uid, gid) != 0 || ::chmod(target.c_str(), 0600) != 0) {
    throw JailerError::FromErrno("cannot hand " + target.string() + " to the VMM's uid", errno);
  }
}

}  // namespace hull::vmm::jailer
