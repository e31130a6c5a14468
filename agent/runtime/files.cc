#include "runtime/files.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "runtime/error.h"
#include "runtime/unique_fd.h"

namespace hull::runtime {

void throw_errno(const std::string& what, int err) {
  throw RuntimeError(ErrorKind::internal, what + ": " + std::strerror(err));
}
void throw_errno(const std::string& what) {
  throw_errno(what, errno);
}

std::optional<std::string> try_read_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string read_file(const std::string& path) {
  auto s = try_read_file(path);
  if (!s) throw_errno("reading " + path);
  return *s;
}

void write_file(const std::string& path, const std::string& data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_TRUNC));
  if (!fd) throw_errno("opening " + path + " for writing");
  ssize_t n;
  do n = ::write(fd.get(), data.data(), data.size());
  while (n < 0 && errno == EINTR);
  if (n < 0) throw_errno("writing \"" + data + "\" to " + path);
}

void make_dirs(const std::string& path, unsigned mode) {
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST)
      throw_errno("creating directory " + prefix);
  }
}

}  // namespace hull::runtime
