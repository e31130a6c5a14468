#include "shim-main/shim_socket.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "ttrpc/connection.h"

namespace hull::shim_main {

namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

sockaddr_un SocketAddr(const std::string& address, socklen_t* len) {
  std::string path;
  try {
    path = ttrpc::UnixSocketPath(address);
  } catch (const std::exception& e) {
    throw ShimSocketError(e.what());
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (path[0] == '\0' ? 0 : 1));
  return addr;
}

}  // namespace

std::string GoCleanPath(const std::string& path) {
  if (path.empty()) return ".";
  const bool rooted = path[0] == '/';
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(part);
      }
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = end + 1;
  }
  std::string out = rooted ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "/" : "") + parts[i];
  return out.empty() ? "." : out;
}

std::string SocketAddress(const std::string& socket_root, const std::string& containerd_address,
                          const std::string& ns, const std::string& group) {
  std::string joined = GoCleanPath(containerd_address + "/" + ns + "/" + group);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (EVP_Digest(joined.data(), joined.size(), digest, &digest_len, EVP_sha256(), nullptr) != 1) {
    throw ShimSocketError("sha256 of the shim socket key failed (OpenSSL)");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < digest_len; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return "unix://" + GoCleanPath(socket_root + "/s") + "/" + hex;
}

std::string GroupFromBundleSpec(const std::string& config_json_path, const std::string& id) {
  std::ifstream in(config_json_path);
  if (!in) {
    throw ShimSocketError("cannot read the bundle's OCI spec " + config_json_path +
                          ": start must run in the bundle directory, which holds config.json");
  }
  nlohmann::json spec;
  try {
    spec = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw ShimSocketError(config_json_path + " is not valid JSON: " + e.what());
  }
  if (!spec.is_object()) throw ShimSocketError(config_json_path + " is not a JSON object (an OCI runtime spec)");
  auto annotations = spec.find("annotations");
  if (annotations == spec.end() || annotations->is_null()) return id;
  if (!annotations->is_object()) throw ShimSocketError(config_json_path + ": \"annotations\" must be an object");
  for (const char* key : kGroupAnnotations) {
    auto it = annotations->find(key);
    if (it == annotations->end()) continue;
    if (!it->is_string() || it->get<std::string>().empty()) {
      throw ShimSocketError(config_json_path + ": annotation " + key + " must be a non-empty string");
    }
    return it->get<std::string>();
  }
  return id;
}

ListeningSocket::~ListeningSocket() {
  if (fd_ >= 0) ::close(fd_);
}

ListeningSocket& ListeningSocket::operator=(ListeningSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

ListeningSocket BindShimSocket(const std::string& address) {
  socklen_t len = 0;
  sockaddr_un addr = SocketAddr(address, &len);
  const bool abstract = addr.sun_path[0] == '\0';
  std::string path(addr.sun_path);
  if (!abstract) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    if (ec) throw ShimSocketError("cannot create the shim socket directory for " + path + ": " + ec.message());
    ::chmod(std::filesystem::path(path).parent_path().c_str(), 0700);
  }
  ListeningSocket sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (sock.fd() < 0) throw ShimSocketError(Errno("socket"));
  if (::bind(sock.fd(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    if (errno == EADDRINUSE) return ListeningSocket();
    throw ShimSocketError(Errno("cannot bind the shim socket " + path));
  }
  if (!abstract && ::chmod(path.c_str(), 0600) != 0) {
    std::string error = Errno("chmod " + path);
    ::unlink(path.c_str());
    throw ShimSocketError(error);
  }
  if (::listen(sock.fd(), SOMAXCONN) != 0) {
    std::string error = Errno("listen on " + path);
    if (!abstract) ::unlink(path.c_str());
    throw ShimSocketError(error);
  }
  return sock;
}

bool CanConnect(const std::string& address) {
  socklen_t len = 0;
  sockaddr_un addr = SocketAddr(address, &len);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  // A unix-socket connect either succeeds at once or fails at once (ECONNREFUSED
  // for a stale file), so no timeout is needed.
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0;
  ::close(fd);
  return ok;
}

void RemoveSocket(const std::string& address) {
  socklen_t len = 0;
  sockaddr_un addr = SocketAddr(address, &len);
  if (addr.sun_path[0] != '\0') ::unlink(addr.sun_path);
}

void WriteFileAtomically(const std::string& path, const std::string& content) {
  std::filesystem::path target = std::filesystem::absolute(path);
  std::filesystem::path temp = target.parent_path() / ("." + target.filename().string());
  int fd = ::open(temp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_SYNC, 0644);
  if (fd < 0) throw ShimSocketError(Errno("cannot write " + temp.string()));
  ssize_t n = ::write(fd, content.data(), content.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(content.size())) {
    ::unlink(temp.c_str());
    throw ShimSocketError("short write to " + temp.string());
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    std::string error = Errno("cannot rename " + temp.string() + " to " + target.string());
    ::unlink(temp.c_str());
    throw ShimSocketError(error);
  }
}

}  // namespace hull::shim_main
