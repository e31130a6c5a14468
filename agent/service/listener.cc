#include "service/listener.h"

// clang-format off
#include <sys/socket.h>  // before linux/vm_sockets.h, which needs struct sockaddr
#include <linux/vm_sockets.h>
// clang-format on
#include <fcntl.h>
#include <grpcpp/server_posix.h>
#include <poll.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace hull::service {

ListenAddress parse_listen_address(const std::string& text) {
  ListenAddress a;
  if (text.rfind("unix:", 0) == 0) {
    a.kind = ListenAddress::Kind::unix_socket;
    a.path = text.substr(5);
    if (a.path.empty() || a.path.size() >= sizeof(sockaddr_un::sun_path))
      throw std::invalid_argument("--listen " + text +
                                  ": the unix socket path is empty or too long");
    return a;
  }
  if (text.rfind("vsock:", 0) == 0) {
    std::string port = text.substr(6);
    char* end = nullptr;
    unsigned long p = std::strtoul(port.c_str(), &end, 10);
    if (port.empty() || *end || p == 0 || p > 0xffffffffUL)
      throw std::invalid_argument("--listen " + text +
                                  ": the vsock port must be a number like 1024");
    a.port = static_cast<unsigned>(p);
    return a;
  }
  throw std::invalid_argument("--listen " + text +
                              ": expected vsock:PORT (guest) or unix:PATH (host tests)");
}

runtime::UniqueFd listen_on(const ListenAddress& address) {
  using runtime::UniqueFd;
  if (address.kind == ListenAddress::Kind::unix_socket) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) throw std::runtime_error(std::string("socket(AF_UNIX): ") + std::strerror(errno));
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, address.path.c_str(), address.path.size());
    ::unlink(address.path.c_str());  // a stale socket from an earlier run
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
        ::listen(fd.get(), 64) != 0)
      throw std::runtime_error("listening on unix:" + address.path + ": " + std::strerror(errno));
    return fd;
  }
  UniqueFd fd(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd)
    throw std::runtime_error(
        std::string("socket(AF_VSOCK): ") + std::strerror(errno) +
        " (the guest kernel needs CONFIG_VIRTIO_VSOCKETS and a virtio-vsock device)");
  sockaddr_vm sa{};
  sa.svm_family = AF_VSOCK;
  sa.svm_port = address.port;
  sa.svm_cid = VMADDR_CID_ANY;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::listen(fd.get(), 64) != 0)
    throw std::runtime_error("listening on vsock port " + std::to_string(address.port) + ": " +
                             std::strerror(errno));
  return fd;
}

void accept_loop(grpc::Server& server, int listen_fd, const std::atomic<bool>& stop) {
  while (!stop) {
    // Polled with a timeout: shutdown(2) does not wake accept() on AF_VSOCK.
    pollfd p{listen_fd, POLLIN, 0};
    int ready = ::poll(&p, 1, 200);
    if (ready <= 0) continue;
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN) continue;
      if (stop) return;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        ::usleep(10000);  // out of resources: try again shortly rather than spin
        continue;
      }
      return;
    }
    grpc::AddInsecureChannelFromFd(&server, fd);  // takes ownership of fd
  }
}

}  // namespace hull::service
