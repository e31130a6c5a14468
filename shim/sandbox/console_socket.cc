#include "sandbox/console_socket.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>

#include <cerrno>
#include <cstring>

#include "sandbox/sandbox_error.h"

namespace hull::shim {

HostPty OpenHostPty() {
  HostPty pty;
  pty.master.Reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.master) throw SandboxError(std::string("posix_openpt: ") + std::strerror(errno));
  if (::grantpt(pty.master.get()) != 0 || ::unlockpt(pty.master.get()) != 0) {
    throw SandboxError(std::string("unlockpt: ") + std::strerror(errno));
  }
  char name[128];
  if (::ptsname_r(pty.master.get(), name, sizeof name) != 0) {
    throw SandboxError(std::string("ptsname: ") + std::strerror(errno));
  }
  pty.slave_name = name;
  // No O_NOCTTY: a session leader without a terminal takes this one.
  pty.slave.Reset(::open(name, O_RDWR | O_CLOEXEC));
  if (!pty.slave) throw SandboxError("cannot open " + pty.slave_name + ": " + std::strerror(errno));
  termios tio{};
  if (::tcgetattr(pty.slave.get(), &tio) == 0) {
    ::cfmakeraw(&tio);
    ::tcsetattr(pty.slave.get(), TCSANOW, &tio);
  }
  return pty;
}

void SendConsoleMaster(const std::filesystem::path& socket, int master_fd, const std::string& name) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket.string().size() >= sizeof addr.sun_path) {
    throw SandboxError("console socket path too long: " + socket.string());
  }
  std::strcpy(addr.sun_path, socket.c_str());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw SandboxError("cannot connect to the console socket " + socket.string() + ": " +
                       std::strerror(errno));
  }
  iovec iov{const_cast<char*>(name.data()), name.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &master_fd, sizeof(int));
  ssize_t n;
  do {
    n = ::sendmsg(fd.get(), &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    throw SandboxError("cannot send the terminal to the console socket " + socket.string() + ": " +
                       std::strerror(errno));
  }
}

}  // namespace hull::shim
