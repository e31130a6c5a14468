// The VMM API's HTTP/JSON parsing: the input is sent as-is over a unix
// socket to a real hull-vmm API server (vmm/api HttpServer: Beast's HTTP
// parser, the router, every endpoint's JSON parsing into the VM config),
// backed by a fake VM; the harness reads the answer until the server closes
// or the client's input is exhausted. Invariant: every answer the server
// writes starts with an HTTP/1.1 status line.
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "api/http_server.h"
#include "api/router.h"
#include "fuzz_check.h"

using namespace hull;
using namespace hull::vmm::api;

namespace {

class FakeVm : public VmController {
 public:
  VmState state() const override { return state_; }
  std::string instance_id() const override { return "fuzz"; }
  vmm::config::VmConfig& mutable_config() override { return config_; }
  vmm::config::HostLimits host_limits() const override { return {4, 2048}; }
  void InstanceStart() override {
    if (!config_.boot_source) throw std::runtime_error("no boot source");
    state_ = VmState::kRunning;
  }
  void Pause() override { state_ = VmState::kPaused; }
  void Resume() override { state_ = VmState::kRunning; }
  void SendCtrlAltDel() override {}
  void FlushMetrics() override {}
  void UpdateDriveImage(const std::string& id, const std::string&) override {
    if (id.empty()) throw std::runtime_error("no drive");
  }

 private:
  VmState state_ = VmState::kNotStarted;
  vmm::config::VmConfig config_;
};

struct Paths {
  Paths() {
    char tmpl[] = "/tmp/hull-fuzz-api-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) __builtin_trap();
    dir = tmpl;
    sock = dir + "/api.sock";
  }
  ~Paths() { rmdir(dir.c_str()); }
  std::string dir, sock;
};

int Connect(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) __builtin_trap();
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Paths paths;
  static const Router router = MakeRouter();
  FakeVm vm;
  boost::asio::io_context io;
  std::string answer;
  {
    HttpServer server(io, paths.sock, router, vm);
    const int fd = Connect(paths.sock);
    size_t sent = 0;
    bool shut = false, eof = false;
    // Interleave: write what the socket takes, let the server run, read what
    // it answered. Ends when the server hangs up, or goes quiet after all
    // input was sent (it keeps a keep-alive connection open).
    for (int idle = 0; !eof && idle < 3;) {
      bool progress = false;
      if (sent < size) {
        ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
          sent += static_cast<size_t>(n);
          progress = true;
        } else if (n < 0 && errno != EAGAIN) {
          break;  // the server hung up on a bad request
        }
      } else if (!shut) {
        shutdown(fd, SHUT_WR);
        shut = true;
      }
      io.restart();
      if (io.poll() > 0) progress = true;
      char buf[4096];
      for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
          answer.append(buf, static_cast<size_t>(n));
          progress = true;
        } else {
          if (n == 0) eof = true;
          break;
        }
      }
      if (progress) {
        idle = 0;
      } else {
        ++idle;
        pollfd p{fd, POLLIN, 0};
        poll(&p, 1, 1);
      }
    }
    close(fd);
    io.restart();
    io.poll();
  }
  HULL_FUZZ_CHECK(answer.empty() || answer.starts_with("HTTP/1.1 "), "API answer without an HTTP status line");
  return 0;
}
