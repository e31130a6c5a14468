#include "sandbox/vsock_dialer.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "sandbox/sandbox_error.h"

namespace hull::shim {
namespace {

using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

UniqueFd DialGuestPortOnce(const std::filesystem::path& vsock_uds, uint32_t port,
                           std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = vsock_uds.string();
  if (path.size() >= sizeof(addr.sun_path)) {
    throw SandboxError("vsock socket path is too long for a unix socket (max " +
                       std::to_string(sizeof(addr.sun_path) - 1) + " bytes): " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw SandboxError(std::string("socket(AF_UNIX): ") + std::strerror(errno));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw SandboxError("cannot connect to the VM's vsock socket " + path + ": " +
                       std::strerror(errno));
  }
  const std::string request = "CONNECT " + std::to_string(port) + "\n";
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    throw SandboxError("writing CONNECT to " + path + ": " + std::strerror(errno));
  }

  // Read the reply byte by byte: anything after '\n' already belongs to the
  // guest's stream and must stay in the socket for the next reader.
  std::string reply;
  while (reply.size() < 32) {
    pollfd pfd{fd.get(), POLLIN, 0};
    int ready = ::poll(&pfd, 1, MillisLeft(deadline));
    if (ready == 0) throw SandboxError("timed out waiting for the VM's vsock to answer CONNECT");
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw SandboxError(std::string("poll: ") + std::strerror(errno));
    }
    char c;
    ssize_t n = ::recv(fd.get(), &c, 1, 0);
    if (n == 0) {
      throw SandboxError("guest vsock port " + std::to_string(port) +
                         " refused the connection (nothing listening yet?)");
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SandboxError(std::string("reading the CONNECT reply: ") + std::strerror(errno));
    }
    if (c == '\n') break;
    reply.push_back(c);
  }
  if (reply.rfind("OK ", 0) != 0) {
    throw SandboxError("unexpected reply to CONNECT " + std::to_string(port) + ": '" + reply + "'");
  }
  return fd;
}

UniqueFd DialGuestPort(const std::filesystem::path& vsock_uds, uint32_t port,
                       Clock::time_point deadline) {
  std::string last_error = "no attempt made";
  while (true) {
    try {
      const int left = MillisLeft(deadline);
      return DialGuestPortOnce(vsock_uds, port, std::chrono::milliseconds(left > 0 ? left : 1));
    } catch (const SandboxError& e) {
      last_error = e.what();
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw SandboxError("the guest agent did not answer on vsock port " + std::to_string(port) +
                     " in time: " + last_error);
}

}  // namespace hull::shim
