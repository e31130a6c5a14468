#include "runtime/safe_path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <algorithm>
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

std::string fd_path(int fd) {
  return "/proc/self/fd/" + std::to_string(fd);
}

UniqueFd open_in_root(int root_fd, const std::string& path, CreateAs create) {
  // Walk the path as the kernel would with the rootfs as "/": symlinks are
  // expanded by hand (so a dangling one can be created at its target, inside
  // the root), ".." stops at the root. Every lookup is an openat2 with
  // RESOLVE_IN_ROOT, so a concurrent change cannot lead outside either.
  std::vector<std::string> todo = components(path);
  std::reverse(todo.begin(), todo.end());
  std::vector<std::string> done;
  auto joined = [&] {
    std::string s;
    for (const auto& d : done) s += (s.empty() ? "" : "/") + d;
    return s;
  };
  int links = 0;
  while (!todo.empty()) {
    std::string comp = todo.back();
    todo.pop_back();
    if (comp == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    std::string parent = joined();
    UniqueFd dir(openat2_in_root(root_fd, parent, O_PATH | O_DIRECTORY));
    if (!dir)
      throw_errno("resolving /" + parent + " inside the container rootfs (for " + path + ")");
    char target[4096];
    ssize_t n = ::readlinkat(dir.get(), comp.c_str(), target, sizeof target - 1);
    if (n >= 0) {
      if (++links > 40)
        throw RuntimeError(ErrorKind::invalid_argument,
                           path + ": too many symlinks inside the container rootfs");
      target[n] = '\0';
      std::vector<std::string> more = components(target);
      if (target[0] == '/') done.clear();
      for (auto it = more.rbegin(); it != more.rend(); ++it) todo.push_back(*it);
      continue;
    }
    if (errno == ENOENT && create != CreateAs::nothing) {
      bool last = todo.empty();
      if (last && create == CreateAs::file) {
        UniqueFd f(::openat(dir.get(), comp.c_str(),
                            O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
        if (!f && errno != EEXIST) throw_errno("creating " + path + " inside the container rootfs");
      } else if (::mkdirat(dir.get(), comp.c_str(), 0755) != 0 && errno != EEXIST) {
        throw_errno("creating directory " + path + " inside the container rootfs");
      }
    }
    done.push_back(comp);
  }
  UniqueFd fd(openat2_in_root(root_fd, joined(), O_PATH));
  if (!fd) throw_errno("resolving " + path + " inside the container rootfs");
  return fd;
}

}  // namespace hull::runtime
