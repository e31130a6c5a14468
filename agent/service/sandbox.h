// Guest-wide setup from CreateSandbox: hostname, resolv.conf, guest mounts,
// IPv4 addresses and routes (ioctl-based: no netlink library needed).
#pragma once

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "hull/agent/v1/agent.pb.h"

namespace hull::service {

class SandboxError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SandboxConfig {
  std::string state_dir;
  bool owns_machine = false;  // PID 1 in a guest: may set the hostname and touch the network
};

class Sandbox {
 public:
  explicit Sandbox(SandboxConfig config) : config_(std::move(config)) {}
  void create(const hull::agent::v1::CreateSandboxRequest& req);
  // Unmounts the guest mounts (containers must be gone first).
  void destroy();
  std::string resolv_conf_path() const { return config_.state_dir + "/resolv.conf"; }

 private:
  SandboxConfig config_;
  std::mutex mu_;
  bool created_ = false;
  std::vector<std::string> mounts_;
};

// Parses "a.b.c.d" or throws SandboxError naming `field`.
uint32_t parse_ipv4(const std::string& text, const std::string& field);
// resolv.conf text for `dns`.
std::string resolv_conf(const hull::agent::v1::DNS& dns);

}  // namespace hull::service
