#include "runtime/safe_path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cerrno>
#include <vector>

#include "runtime/error.h"

namespace hull::runtime {
namespace {

int openat2_in_root(int root_fd, const std::string& rel, unsigned long flags) {
  struct open_how how {};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = ::syscall(SYS_openat2, root_fd, rel.empty() ? "." : rel.c_str(), &how, sizeof how);
    if (fd < 0 && errno == EAGAIN) continue;  // a concurrent rename; try again
    return static_cast<int>(fd);
  }
}

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string c = path.substr(i, j - i);
    if (!c.empty() && c != ".") out.push_back(c);
    i = j + 1;
  }
  return out;
}

}  // namespace

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

UniqueFd open_in_root(int root_fd, const std::string& path, CreateAs create) {
  std::vector<std::string> parts = components(path);
  std::string prefix;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string parent = prefix;
    prefix += (prefix.empty() ? "" : "/") + parts[i];
    bool last = i + 1 == parts.size();
    UniqueFd fd(openat2_in_root(root_fd, prefix, O_PATH));
    if (fd) continue;
    if (errno != ENOENT || create == CreateAs::nothing)
      throw_errno("resolving " + path + " inside the container rootfs");
    // Create the missing component relative to its (safely resolved) parent.
    UniqueFd dir(openat2_in_root(root_fd, parent, O_PATH | O_DIRECTORY));
    if (!dir) throw_errno("resolving " + (parent.empty() ? "/" : "/" + parent) + " inside the container rootfs");
    if (last && create == CreateAs::file) {
      UniqueFd f(::openat(dir.get(), parts[i].c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
      if (!f && errno != EEXIST) throw_errno("creating " + path + " inside the container rootfs");
    } else if (::mkdirat(dir.get(), parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
      throw_errno("creating directory /" + prefix + " inside the container rootfs");
    }
  }
  UniqueFd fd(openat2_in_root(root_fd, prefix, O_PATH));
  if (!fd) throw_errno("resolving " + path + " inside the container rootfs");
  return fd;
}

}  // namespace hull::runtime
