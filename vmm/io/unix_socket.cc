#include "io/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "io/io_error.h"

namespace hull::vmm::io {
namespace {

bool MakeAddress(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr->sun_path) return false;
  std::memcpy(addr->sun_path, path.data(), path.size());
  return true;
}

}  // namespace

UniqueFd ConnectUnix(const std::string& path) {
  sockaddr_un addr;
  if (!MakeAddress(path, &addr)) {
    errno = ENAMETOOLONG;
    return UniqueFd();
  }
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return fd;
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return UniqueFd();
  return fd;
}

void CheckUnixListenPath(const std::string& path) {
  sockaddr_un addr;
  if (!MakeAddress(path, &addr)) {
    throw IoError("unix socket path '" + path + "' is empty or longer than " +
                  std::to_string(sizeof addr.sun_path - 1) + " bytes: choose a shorter path");
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw IoError("the directory of unix socket '" + path + "' does not exist: create it first");
  }
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      throw IoError("'" + path + "' exists and is not a socket: remove it or choose another path");
    }
    UniqueFd probe = ConnectUnix(path);
    if (probe || errno == EAGAIN) {
      throw IoError("unix socket '" + path + "' is in use by another process: choose another path");
    }
  }
}

UniqueFd ListenUnix(const std::string& path) {
  CheckUnixListenPath(path);
  sockaddr_un addr;
  MakeAddress(path, &addr);
  unlink(path.c_str());  // a stale socket nobody listens on (checked above), if any
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw IoError::FromErrno("socket(AF_UNIX)");
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw IoError::FromErrno("binding unix socket '" + path + "'");
  }
  if (listen(fd.get(), 128) != 0) throw IoError::FromErrno("listening on '" + path + "'");
  return fd;
}

}  // namespace hull::vmm::io
