#include "sandbox/vsock_dialer.h"

#include <gtest/gtest.h>

#include "sandbox/sandbox_error.h"
#include "sandbox_fake_server.h"

namespace hull::shim {
namespace {

using testing::FakeUnixServer;
using namespace std::chrono_literals;

TEST(VsockDialerTest, SendsConnectAndLeavesTheGuestStreamUnread) {
  auto path = testing::TempPath("vsock");
  std::string seen;
  FakeUnixServer server(path, [&](int fd) {
    seen = FakeUnixServer::ReadUntil(fd, "\n");
    // The reply and the first guest bytes arrive in one write.
    const std::string reply = "OK 1073741824\nhello";
    ASSERT_EQ(::write(fd, reply.data(), reply.size()), static_cast<ssize_t>(reply.size()));
  });
  UniqueFd fd = DialGuestPortOnce(path, 1024, 2s);
  char buf[5];
  ASSERT_EQ(::read(fd.get(), buf, 5), 5);
  EXPECT_EQ(std::string(buf, 5), "hello");
  EXPECT_EQ(seen, "CONNECT 1024\n");
}

TEST(VsockDialerTest, ClosedOrGarbageRepliesAreErrors) {
  auto path = testing::TempPath("vsock");
  int calls = 0;
  FakeUnixServer server(path, [&](int fd) {
    FakeUnixServer::ReadUntil(fd, "\n");
    if (++calls == 2) {
      const std::string reply = "NO thanks\n";
      (void)!::write(fd, reply.data(), reply.size());
    }  // first call: close without a reply, as a VMM does when nothing listens
  });
  EXPECT_THROW(DialGuestPortOnce(path, 1024, 2s), SandboxError);
  try {
    DialGuestPortOnce(path, 1024, 2s);
    FAIL();
  } catch (const SandboxError& e) {
    EXPECT_NE(std::string(e.what()).find("NO thanks"), std::string::npos);
  }
}

TEST(VsockDialerTest, RetriesUntilTheGuestListens) {
  auto path = testing::TempPath("vsock");
  int calls = 0;
  FakeUnixServer server(path, [&](int fd) {
    FakeUnixServer::ReadUntil(fd, "\n");
    if (++calls >= 3) (void)!::write(fd, "OK 5\n", 5);
  });
  UniqueFd fd = DialGuestPort(path, 1024, std::chrono::steady_clock::now() + 5s);
  EXPECT_TRUE(fd);
  EXPECT_EQ(calls, 3);
}

TEST(VsockDialerTest, MissingSocketGivesUpAtTheDeadline) {
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(DialGuestPort("/nonexistent/hull.vsock", 1024, start + 200ms), SandboxError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

}  // namespace
}  // namespace hull::shim
