// Where a shim listens and how `start` finds a running one, as containerd
// 1.6's shim library does it: the socket is
//   unix://<root>/s/<hex sha256 of filepath.Join(containerd address, ns, group)>
// where root is /run/containerd and group is the pod's sandbox id (so every
// container of a pod reaches the same shim and VM) or the task id.
#pragma once

#include <map>
#include <string>

#include <stdexcept>
#include <utility>

namespace hull::shim_main {

inline constexpr char kDefaultSocketRoot[] = "/run/containerd";
// Annotations that put containers into one sandbox (one shim, one VM).
inline constexpr const char* kGroupAnnotations[] = {"io.kubernetes.cri.sandbox-id"};

class ShimSocketError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Go's path.Clean for the absolute and relative paths containerd passes.
std::string GoCleanPath(const std::string& path);
std::string SocketAddress(const std::string& socket_root, const std::string& containerd_address,
                          const std::string& ns, const std::string& group);
// The sandbox grouping key from a bundle's config.json annotations, or `id`.
// Throws ShimSocketError when config.json is missing or not JSON.
std::string GroupFromBundleSpec(const std::string& config_json_path, const std::string& id);

// A bound, listening unix socket (fd owned; closed on destruction).
class ListeningSocket {
 public:
  ListeningSocket() = default;
  explicit ListeningSocket(int fd) : fd_(fd) {}
  ~ListeningSocket();
  ListeningSocket(ListeningSocket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ListeningSocket& operator=(ListeningSocket&& other) noexcept;
  int fd() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

// Creates the socket (making its directory 0700, the socket 0600). Returns an
// invalid socket (fd -1) when the path is already bound (EADDRINUSE).
ListeningSocket BindShimSocket(const std::string& address);
// True if a server accepts connections at `address` (within ~100 ms).
bool CanConnect(const std::string& address);
void RemoveSocket(const std::string& address);

// Writes `content` to `path` atomically (temp file + rename), as Go's
// shim.WriteAddress does for the bundle's `address` file.
void WriteFileAtomically(const std::string& path, const std::string& content);

}  // namespace hull::shim_main
