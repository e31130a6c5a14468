// Where a microVM's unix sockets (hull-vmm's API socket, the hybrid-vsock
// socket and the guest-initiated "<vsock>_<port>" ones) live.
//
// A unix socket path has at most 107 bytes. The state directory is the
// natural place, but callers choose it: Docker's runc shim gives hull
// `--root /run/docker/runtime-runc/moby` and a 64-hex container id, which
// puts vsock.sock at 109 bytes. Such a state directory gets a short socket
// directory instead, named by a hash of the state directory so every verb
// finds it again without being told.
#pragma once

#include <filesystem>

namespace hull::shim {

// The longest path a unix socket may have (sun_path less its NUL).
inline constexpr size_t kMaxUnixSocketPath = 107;

// The socket directory for `state_dir`: itself when its longest socket name
// ("vsock.sock_" + a 10-digit port) fits, else `short_base`/<16 hex digits>.
std::filesystem::path VmSocketDirFor(const std::filesystem::path& state_dir,
                                     const std::filesystem::path& short_base);
// The same with the default short base (DefaultShortSocketBase()).
std::filesystem::path VmSocketDirFor(const std::filesystem::path& state_dir);

// /run/hull/v for root; $XDG_RUNTIME_DIR/hull-v for other users (their own
// tmpfs), else /tmp/hull-<uid>-v.
std::filesystem::path DefaultShortSocketBase();

// Creates `dir` (and a missing parent) with mode 0700. An existing `dir` must
// be a directory owned by us, not a link. Throws SandboxError.
void CreateVmSocketDir(const std::filesystem::path& dir);

// Removes the socket directory of `state_dir` when it is not `state_dir`
// itself (that one goes with the state). Never throws.
void RemoveVmSocketDir(const std::filesystem::path& state_dir);

// The socket directory of one microVM for as long as it lives: created
// (when it is not the state directory) on construction, removed with all in it
// on destruction, also when the microVM's start fails half-way.
class OwnedVmSocketDir {
 public:
  explicit OwnedVmSocketDir(const std::filesystem::path& state_dir);
  ~OwnedVmSocketDir();
  OwnedVmSocketDir(const OwnedVmSocketDir&) = delete;
  OwnedVmSocketDir& operator=(const OwnedVmSocketDir&) = delete;
  const std::filesystem::path& path() const { return dir_; }

 private:
  std::filesystem::path state_dir_;
  std::filesystem::path dir_;
};

}  // namespace hull::shim
