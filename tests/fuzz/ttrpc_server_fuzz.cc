// The shim's ttrpc server (shim/ttrpc Server) reading a hostile byte stream
// over a real unix socket: frames of any type, length and stream id,
// Request envelopes with any service, method, metadata and timeout. An echo
// service and a failing one are registered. The harness writes the input,
// half-closes and reads until the server hangs up. Invariant: what comes
// back is whole frames, each a Response envelope that decodes.
#include <poll.h>
#include <spdlog/logger.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "ttrpc/frame.h"
#include "ttrpc/server.h"
#include "ttrpc/ttrpc.pb.h"

using namespace hull::ttrpc;

namespace {

struct Fixture {
  Fixture() : server(std::make_shared<spdlog::logger>("fuzz")) {  // no sinks: quiet
    char tmpl[] = "/tmp/hull-fuzz-ttrpc-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) __builtin_trap();
    dir = tmpl;
    path = dir + "/s.sock";
    server.Register("fuzz.Echo", "Echo", [](const CallContext&, const std::string& payload) { return payload; });
    server.Register("fuzz.Echo", "Fail", [](const CallContext&, const std::string&) -> std::string {
      throw TtrpcError(Code::kNotFound, "no such thing");
    });
    server.Register("fuzz.Echo", "Wait", [](const CallContext& ctx, const std::string&) {
      ctx.WaitCancelled(std::chrono::milliseconds(2));
      return std::string("waited");
    });
    server.Listen(path);
    server.Start();
  }
  ~Fixture() {
    server.Shutdown();
    rmdir(dir.c_str());
  }
  std::string dir, path;
  Server server;
};

int Connect(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) __builtin_trap();
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  const int fd = Connect(fixture.path);
  std::string answer;
  size_t sent = 0;
  bool shut = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, static_cast<short>(POLLIN | (sent < size ? POLLOUT : 0)), 0};
    if (poll(&p, 1, 10) < 0) break;
    if ((p.revents & POLLOUT) && sent < size) {
      ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) sent += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN) sent = size;  // the server hung up
    }
    if (sent == size && !shut) {
      shutdown(fd, SHUT_WR);
      shut = true;
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[4096];
      ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) answer.append(buf, static_cast<size_t>(n));
      if (n == 0 || (n < 0 && errno != EAGAIN)) break;
    }
  }
  close(fd);
  // The server closes at a frame boundary: a cut-off answer is a finding.
  FrameDecoder decoder;
  std::vector<DecodedFrame> frames;
  decoder.Feed({reinterpret_cast<const uint8_t*>(answer.data()), answer.size()}, frames);
  HULL_FUZZ_CHECK(decoder.AtFrameBoundary(), "server answer ends mid-frame");
  for (const auto& f : frames) {
    HULL_FUZZ_CHECK(f.header.type == static_cast<uint8_t>(FrameType::kResponse), "server sent a non-response frame");
    wire::Response response;
    HULL_FUZZ_CHECK(response.ParseFromString(f.payload), "server sent a Response that does not decode");
  }
  return 0;
}
