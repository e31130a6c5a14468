// The microVM's socket directory: the state directory while its socket paths
// fit in a sockaddr_un, a short per-VM directory when they would not.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <filesystem>

#include "sandbox/sandbox_error.h"
#include "sandbox/unique_fd.h"
#include "sandbox/vm_socket_dir.h"

namespace hull::shim {
namespace {
namespace fs = std::filesystem;

class VmSocketDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-sockdir-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// Docker's exec-root: /run/docker/runtime-runc/moby/<64 hex>.
const std::string kDockerState = "/run/docker/runtime-runc/moby/" + std::string(64, 'a');

TEST_F(VmSocketDirTest, ShortStateDirectoryKeepsItsSockets) {
  EXPECT_EQ(VmSocketDirFor("/run/hull/containers/c1", "/run/hull/v"), fs::path("/run/hull/containers/c1"));
  EXPECT_EQ(VmSocketDirFor("/run/hull/containers/c1/", "/run/hull/v"), fs::path("/run/hull/containers/c1"));
}

TEST_F(VmSocketDirTest, LongStateDirectoryGetsAShortOneThatFits) {
  const fs::path d = VmSocketDirFor(kDockerState, "/run/hull/v");
  EXPECT_EQ(d.parent_path(), fs::path("/run/hull/v"));
  EXPECT_EQ(d.filename().string().size(), 16u);
  EXPECT_LE((d / "vsock.sock_4294967295").string().size(), kMaxUnixSocketPath);
  // Stable (every verb finds it again) and distinct per state directory.
  EXPECT_EQ(d, VmSocketDirFor(kDockerState, "/run/hull/v"));
  EXPECT_NE(d, VmSocketDirFor(kDockerState + "b", "/run/hull/v"));
}

TEST_F(VmSocketDirTest, TheLimitIsWhereTheLongestSocketNoLongerFits) {
  // 107 bytes in all: "/" + 85 more, plus "/vsock.sock_4294967295" (22).
  const std::string fits = "/" + std::string(84, 'x');
  EXPECT_EQ(VmSocketDirFor(fits, "/s"), fs::path(fits));
  EXPECT_NE(VmSocketDirFor(fits + "x", "/s"), fs::path(fits + "x"));
}

TEST_F(VmSocketDirTest, CreatedPrivateAndASocketBindsThere) {
  const fs::path d = dir_ / "v" / "0123456789abcdef";
  CreateVmSocketDir(d);
  CreateVmSocketDir(d);  // an existing one of ours is fine
  struct stat st {};
  ASSERT_EQ(::stat(d.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat(d.parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = (d / "vsock.sock").string();
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  path.copy(addr.sun_path, path.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
}

TEST_F(VmSocketDirTest, ALinkInItsPlaceIsRefused) {
  fs::create_directories(dir_ / "v");
  fs::create_directories(dir_ / "elsewhere");
  fs::create_directory_symlink(dir_ / "elsewhere", dir_ / "v" / "0123456789abcdef");
  EXPECT_THROW(CreateVmSocketDir(dir_ / "v" / "0123456789abcdef"), SandboxError);
}

}  // namespace
}  // namespace hull::shim
