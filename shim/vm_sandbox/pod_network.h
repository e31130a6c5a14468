// Pod networking as Kata's "tcfilter" model: when the OCI spec names a
// network namespace (the one CNI set up, with a veth in it), every interface
// there that has an IPv4 address gets a tap next to it, and two tc ingress
// filters mirror each one's traffic to the other (`mirred egress redirect`).
// hull-vmm, started inside that namespace, backs a virtio-net device with the
// tap; the guest NIC takes the veth's MAC, addresses, MTU and routes, so the
// pod keeps the address CNI gave it. The iproute2 programs (`ip -j`, `tc`) do
// the netlink work, run in the namespace with util-linux's `nsenter --net`.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "sandbox/agent_client.h"

namespace hull::vm_sandbox {

struct PodAddress {
  std::string address;  // "10.88.0.2"
  uint32_t prefix_length = 0;
};

// An interface of the pod's namespace that the guest takes over.
struct PodInterface {
  std::string name;  // the veth's name in the namespace, e.g. "eth0"
  std::string mac;
  uint32_t mtu = 0;
  std::vector<PodAddress> addresses;
};

struct PodRoute {
  std::string destination;  // "default" or a CIDR
  std::string gateway;
  std::string device;       // the namespace's interface name
};

// The interfaces worth mirroring in `ip -j addr show` output: those with an
// IPv4 address, except loopback. Throws SandboxError on output that is not
// the JSON array iproute2 prints.
std::vector<PodInterface> ParseIpAddrJson(const std::string& json_text);
// The routes through a gateway in `ip -j -4 route show` output (the kernel
// adds the link routes itself when the guest gets its addresses).
std::vector<PodRoute> ParseIpRouteJson(const std::string& json_text);

// The network namespace path in an OCI config (linux.namespaces, type
// "network" with a path), or nullopt: no pod network to mirror.
std::optional<std::string> NetworkNamespacePath(const std::string& config_json);
// The config with a network namespace that has a path removed: the container then
// shares the guest's namespace, which holds the mirrored NICs (the host path
// means nothing inside the guest).
std::string WithoutNetworkNamespace(const std::string& config_json);

// The tap that mirrors the pod's index-th interface.
std::string TapName(size_t index);
// argv of the commands that create tap and mirrors for one interface, in order.
std::vector<std::vector<std::string>> MirrorSetupCommands(const std::string& netns,
                                                          const PodInterface& itf,
                                                          const std::string& tap);
// argv of the commands that undo them (each may fail if set-up stopped half way).
std::vector<std::vector<std::string>> MirrorTeardownCommands(const std::string& netns,
                                                             const std::string& veth,
                                                             const std::string& tap);

// The mirrors of one pod namespace; the destructor removes the taps and
// filters it created, so a failed start leaves nothing behind.
class PodNetwork {
 public:
  struct Link {
    PodInterface itf;
    std::string tap;
    std::string guest_name;  // eth0, eth1... in the order the VMM gets the taps
  };

  // Reads the namespace's interfaces and routes and sets up every mirror.
  // Throws SandboxError (no such namespace, no IPv4 interface, ip/tc failed).
  PodNetwork(std::string netns, std::shared_ptr<spdlog::logger> log);
  ~PodNetwork();
  PodNetwork(const PodNetwork&) = delete;
  PodNetwork& operator=(const PodNetwork&) = delete;

  const std::string& netns() const { return netns_; }
  const std::vector<Link>& links() const { return links_; }
  // Routes with the namespace's device names replaced by the guest's.
  std::vector<PodRoute> GuestRoutes() const;

 private:
  void SetUp(std::vector<PodInterface> interfaces);
  void TearDown();

  std::string netns_;
  std::shared_ptr<spdlog::logger> log_;
  std::vector<Link> links_;
  std::vector<PodRoute> routes_;
};

// Puts the guest's interfaces (the veths' addresses and MTU; the MAC is the
// VMM's guest_mac already) and routes into the agent's CreateSandbox.
void DescribeForAgent(const PodNetwork& network, shim::agentpb::CreateSandboxRequest& request);

}  // namespace hull::vm_sandbox
