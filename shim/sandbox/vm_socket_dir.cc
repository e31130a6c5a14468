#include "sandbox/vm_socket_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sandbox/sandbox_error.h"

namespace hull::shim {
namespace fs = std::filesystem;
namespace {

// "/" + the longest name hull-vmm binds in the directory.
constexpr size_t kLongestSocketName = sizeof("/vsock.sock_4294967295") - 1;

uint64_t Fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

void MakeOwnDir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    throw SandboxError("cannot create the microVM socket directory " + dir.string() + ": " +
                       std::strerror(errno));
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) {
    throw SandboxError(dir.string() + " is not a directory of ours (a link, a file or another user's): "
                       "refusing to put the microVM's sockets there; remove it");
  }
}

}  // namespace

fs::path VmSocketDirFor(const fs::path& state_dir, const fs::path& short_base) {
  const fs::path dir = fs::absolute(state_dir).lexically_normal();
  const std::string text = dir.has_filename() ? dir.string() : dir.parent_path().string();
  if (text.size() + kLongestSocketName <= kMaxUnixSocketPath) return text;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(Fnv1a(text)));
  return short_base / hex;
}

fs::path DefaultShortSocketBase() {
  const uid_t uid = ::geteuid();
  if (uid == 0) return "/run/hull/v";
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && xdg[0] == '/') {
    return fs::path(xdg) / "hull-v";
  }
  return "/tmp/hull-" + std::to_string(uid) + "-v";
}

fs::path VmSocketDirFor(const fs::path& state_dir) {
  return VmSocketDirFor(state_dir, DefaultShortSocketBase());
}

void CreateVmSocketDir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir.parent_path().parent_path(), ec);  // /run/hull: shared, ordinary perms
  MakeOwnDir(dir.parent_path());
  MakeOwnDir(dir);
}

void RemoveVmSocketDir(const fs::path& state_dir) {
  const fs::path base = DefaultShortSocketBase();
  const fs::path dir = VmSocketDirFor(state_dir, base);
  if (dir.parent_path() != base) return;  // the state directory itself
  std::error_code ec;
  fs::remove_all(dir, ec);
}

OwnedVmSocketDir::OwnedVmSocketDir(const fs::path& state_dir)
    : state_dir_(state_dir), dir_(VmSocketDirFor(state_dir)) {
  if (dir_.parent_path() == DefaultShortSocketBase()) CreateVmSocketDir(dir_);
}

OwnedVmSocketDir::~OwnedVmSocketDir() { RemoveVmSocketDir(state_dir_); }

}  // namespace hull::shim
