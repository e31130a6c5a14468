// Client of hull-vmm's HTTP/JSON API on its unix socket (Firecracker's shape:
// PUT /boot-source, /machine-config, /drives/{id}, /vsock, /actions ...).
// One short-lived connection per request, like curl --unix-socket.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace hull::shim {

struct VmmResponse {
  int status = 0;
  nlohmann::json body;  // null when the response had no body
};

class VmmClient {
 public:
  explicit VmmClient(std::filesystem::path api_socket,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : api_socket_(std::move(api_socket)), timeout_(timeout) {}

  // Sends one request. Throws SandboxError when the socket cannot be reached,
  // and when the VMM answers with an error status (its fault_message quoted).
  VmmResponse Request(const std::string& method, const std::string& path,
                      const nlohmann::json& body = nullptr) const;

  VmmResponse Get(const std::string& path) const { return Request("GET", path); }
  VmmResponse Put(const std::string& path, const nlohmann::json& body) const {
    return Request("PUT", path, body);
  }
  VmmResponse Patch(const std::string& path, const nlohmann::json& body) const {
    return Request("PATCH", path, body);
  }

  const std::filesystem::path& api_socket() const { return api_socket_; }

  // Called with every host file a request body names (kernel_image_path,
  // initrd_path, path_on_host) before the request is sent: a jailed VMM sees
  // only files placed in its jail (VmmProcess::ExposeFile), and a drive swap
  // (PATCH /drives) must find its new image there.
  void SetFileHook(std::function<void(const std::filesystem::path&)> hook) { file_hook_ = std::move(hook); }

 private:
  std::filesystem::path api_socket_;
  std::chrono::milliseconds timeout_;
  std::function<void(const std::filesystem::path&)> file_hook_;
};

}  // namespace hull::shim
