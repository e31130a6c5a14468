// `hull run` in one call: an OCI bundle's container in its own microVM, with
// the container's stdout/stderr copied to ours and its exit status returned.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sandbox/agent_client.h"
#include "sandbox/microvm.h"
#include "sandbox/runtime_paths.h"

namespace hull::shim {

// The host network a container's microVM takes part in: the taps mirrored to
// the interfaces of the network namespace its spec names. The sandbox library
// only consumes it; the caller provides it (the CLI wires in the shim's pod
// network, vm_sandbox/pod_network.h), so this library stays free of it.
// Destroying it removes the taps and mirrors.
class GuestNetwork {
 public:
  // One mirror, as `hull delete` needs it to undo what a killed keeper left.
  struct Mirror {
    std::string veth;  // the namespace's interface
    std::string tap;
  };
  virtual ~GuestNetwork() = default;
  // The namespace hull-vmm starts in (a path).
  virtual std::string netns() const = 0;
  // The microVM's NICs, one per tap, in guest order (eth0, eth1...).
  virtual std::vector<NetSpec> Nics() const = 0;
  virtual std::vector<Mirror> Mirrors() const = 0;
  // Adds the guest's interfaces (addresses, MTU) and routes.
  virtual void Describe(agentpb::CreateSandboxRequest& request) const = 0;
  // The config the agent gets: without the host namespace path (the container
  // shares the guest's namespace, which holds the NICs).
  virtual std::string ConfigForGuest(const std::string& config_json) const = 0;
};

// Returns the network for a config.json, or nullptr when the config names no
// network namespace path. `log_file` receives the set-up's diagnostics.
// Throws SandboxError when the namespace cannot be mirrored.
using GuestNetworkFactory = std::function<std::unique_ptr<GuestNetwork>(
    const std::string& config_json, const std::filesystem::path& log_file)>;

struct BundleRunOptions {
  std::string container_id;
  std::filesystem::path bundle;      // holds config.json and (usually) rootfs/
  std::filesystem::path state_root;  // per-sandbox state goes to state_root/<id>
  RuntimePaths runtime;
  unsigned vcpus = 1;
  unsigned mem_mib = 256;
  std::chrono::seconds agent_timeout{60};  // boot + agent start; generous for nested TCG
  bool keep_state = false;                 // leave state_root/<id> (logs) behind for debugging
  GuestNetworkFactory network;             // empty: the guest has no NIC
};

// Returns the container's exit status (128+signal when killed). Throws
// SandboxError for anything that kept the container from running; the VM, the
// network mirrors and the state directory are gone either way (unless keep_state).
int RunBundle(const BundleRunOptions& options);

}  // namespace hull::shim
