#include "jailer/safe_remove.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "jailer/jailer_error.h"

namespace hull::vmm::jailer {
namespace fs = std::filesystem;

namespace {

// Empties the directory `fd` (named `shown` in errors) that lives on `dev`.
void EmptyDir(int fd, dev_t dev, const fs::path& shown) {
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    ::close(fd);
    throw JailerError::FromErrno("cannot read " + shown.string(), errno);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  for (const auto& name : names) {
    struct stat st {};
    if (::fstatat(::dirfd(d), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (st.st_dev != dev) {
        ::closedir(d);
        throw JailerError((shown / name).string() + " is a mount point: unmount it, then run --cleanup again");
      }
      const int child = ::openat(::dirfd(d), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) {
        const int err = errno;
        ::closedir(d);
        throw JailerError::FromErrno("cannot open " + (shown / name).string(), err);
      }
      EmptyDir(child, dev, shown / name);
      if (::unlinkat(::dirfd(d), name.c_str(), AT_REMOVEDIR) != 0) {
        const int err = errno;
        ::closedir(d);
        throw JailerError::FromErrno("cannot remove " + (shown / name).string(), err);
      }
    } else if (::unlinkat(::dirfd(d), name.c_str(), 0) != 0) {
      const int err = errno;
      ::closedir(d);
      throw JailerError::FromErrno("cannot remove " + (shown / name).string(), err);
    }
  }
  ::closedir(d);
}

}  // namespace

void RemoveTreeOnOneFileSystem(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return;
    throw JailerError::FromErrno("cannot open " + dir.string(), errno);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw JailerError::FromErrno("cannot stat " + dir.string(), errno);
  }
  EmptyDir(fd, st.st_dev, dir);
  if (::rmdir(dir.c_str()) != 0) throw JailerError::FromErrno("cannot remove " + dir.string(), errno);
}

}  // namespace hull::vmm::jailer
