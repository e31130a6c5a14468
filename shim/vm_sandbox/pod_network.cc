#include "vm_sandbox/pod_network.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "sandbox/sandbox_error.h"
#include "sandbox/subprocess.h"

namespace hull::vm_sandbox {
using nlohmann::json;
using shim::SandboxError;

namespace {

json ParseArray(const std::string& text, const char* what) {
  json parsed = json::parse(text, nullptr, false);
  if (!parsed.is_array()) {
    throw SandboxError(std::string(what) + ": not the JSON array iproute2 prints (is `ip` iproute2 "
                                           "5.x or newer?): " + text.substr(0, 200));
  }
  return parsed;
}

// `nsenter --net=NETNS ARGS...`: the command in the pod's namespace.
std::vector<std::string> InNetns(const std::string& netns, std::vector<std::string> args) {
  args.insert(args.begin(), {"nsenter", "--net=" + netns});
  return args;
}

std::string RunIn(const std::string& netns, std::vector<std::string> args, const std::string& what) {
  shim::CommandResult r = shim::RunCommand(InNetns(netns, std::move(args)));
  if (r.exit_code != 0) {
    throw SandboxError(what + " in network namespace " + netns + " failed (exit " +
                       std::to_string(r.exit_code) + "): " + r.output);
  }
  return r.output;
}

}  // namespace

std::vector<PodInterface> ParseIpAddrJson(const std::string& json_text) {
  std::vector<PodInterface> out;
  for (const json& link : ParseArray(json_text, "ip -j addr")) {
    if (!link.is_object() || link.value("link_type", std::string()) == "loopback") continue;
    PodInterface itf;
    itf.name = link.value("ifname", std::string());
    itf.mac = link.value("address", std::string());
    itf.mtu = link.value("mtu", 0u);
    if (auto it = link.find("addr_info"); it != link.end() && it->is_array()) {
      for (const json& a : *it) {
        if (!a.is_object() || a.value("family", std::string()) != "inet") continue;
        itf.addresses.push_back({a.value("local", std::string()), a.value("prefixlen", 0u)});
      }
    }
    if (itf.name.empty() || itf.addresses.empty()) continue;
    out.push_back(std::move(itf));
  }
  return out;
}

std::vector<PodRoute> ParseIpRouteJson(const std::string& json_text) {
  std::vector<PodRoute> out;
  for (const json& r : ParseArray(json_text, "ip -j route")) {
    if (!r.is_object() || !r.contains("gateway")) continue;
    out.push_back({r.value("dst", std::string("default")), r.value("gateway", std::string()),
                   r.value("dev", std::string())});
  }
  return out;
}

std::optional<std::string> NetworkNamespacePath(const std::string& config_json) {
  json config = json::parse(config_json, nullptr, false);
  const json* namespaces = nullptr;
  if (config.is_object() && config.contains("linux") && config["linux"].is_object() &&
      config["linux"].contains("namespaces") && config["linux"]["namespaces"].is_array()) {
    namespaces = &config["linux"]["namespaces"];
  }
  if (!namespaces) return std::nullopt;
  for (const json& ns : *namespaces) {
    if (ns.is_object() && ns.value("type", std::string()) == "network") {
      std::string path = ns.value("path", std::string());
      if (!path.empty()) return path;
    }
  }
  return std::nullopt;
}

std::string WithoutNetworkNamespace(const std::string& config_json) {
  json config = json::parse(config_json, nullptr, false);
  if (!config.is_object() || !config.contains("linux") || !config["linux"].is_object()) return config_json;
  json& linux_section = config["linux"];
  if (!linux_section.contains("namespaces") || !linux_section["namespaces"].is_array()) return config_json;
  json kept = json::array();
  for (const json& ns : linux_section["namespaces"]) {
    if (!(ns.is_object() && ns.value("type", std::string()) == "network" &&
          !ns.value("path", std::string()).empty())) {
      kept.push_back(ns);
    }
  }
  if (kept.size() == linux_section["namespaces"].size()) return config_json;
  linux_section["namespaces"] = std::move(kept);
  return config.dump();
}

std::string TapName(size_t index) { return "hulltap" + std::to_string(index); }

std::vector<std::vector<std::string>> MirrorSetupCommands(const std::string& netns,
                                                          const PodInterface& itf,
                                                          const std::string& tap) {
  // The VMM opens the tap with IFF_VNET_HDR; the ingress qdisc's handle is
  // ffff: as tc's `ingress` has it. u32 `match u8 0 0` matches every packet.
  auto redirect = [](const std::string& from, const std::string& to) {
    return std::vector<std::string>{"tc",   "filter", "add",  "dev",    from,     "parent",  "ffff:",
                                    "protocol", "all", "u32", "match",  "u8",     "0",       "0",
                                    "action", "mirred", "egress", "redirect", "dev", to};
  };
  std::vector<std::vector<std::string>> cmds = {
      {"ip", "tuntap", "add", "dev", tap, "mode", "tap", "vnet_hdr"},
      {"ip", "link", "set", "dev", tap, "mtu", std::to_string(itf.mtu ? itf.mtu : 1500)},
      {"ip", "link", "set", "dev", tap, "up"},
      {"tc", "qdisc", "add", "dev", itf.name, "handle", "ffff:", "ingress"},
      redirect(itf.name, tap),
      {"tc", "qdisc", "add", "dev", tap, "handle", "ffff:", "ingress"},
      redirect(tap, itf.name),
  };
  for (auto& c : cmds) c = InNetns(netns, std::move(c));
  return cmds;
}

std::vector<std::vector<std::string>> MirrorTeardownCommands(const std::string& netns,
                                                             const std::string& veth,
                                                             const std::string& tap) {
  // Deleting the ingress qdisc deletes its filters; deleting the tap, its own.
  return {InNetns(netns, {"tc", "qdisc", "del", "dev", veth, "handle", "ffff:", "ingress"}),
          InNetns(netns, {"ip", "link", "del", "dev", tap})};
}

PodNetwork::PodNetwork(std::string netns, std::shared_ptr<spdlog::logger> log)
    : netns_(std::move(netns)), log_(std::move(log)) {
  if (::access(netns_.c_str(), R_OK) != 0) {
    throw SandboxError("the spec's network namespace " + netns_ +
                       " does not exist or cannot be read (was the pod's namespace deleted?)");
  }
  std::vector<PodInterface> interfaces =
      ParseIpAddrJson(RunIn(netns_, {"ip", "-j", "addr", "show"}, "listing the interfaces"));
  if (interfaces.empty()) {
    throw SandboxError("network namespace " + netns_ +
                       " has no interface with an IPv4 address to give the microVM (set up the "
                       "veth, e.g. with CNI, before starting the container)");
  }
  routes_ = ParseIpRouteJson(RunIn(netns_, {"ip", "-j", "-4", "route", "show"}, "listing the routes"));
  try {
    SetUp(std::move(interfaces));
  } catch (...) {
    TearDown();  // a constructor that throws gets no destructor
    throw;
  }
}

void PodNetwork::SetUp(std::vector<PodInterface> interfaces) {
  for (size_t i = 0; i < interfaces.size(); ++i) {
    Link link{std::move(interfaces[i]), TapName(i), "eth" + std::to_string(i)};
    links_.push_back(link);  // before set-up: TearDown undoes a half-done one
    for (const auto& argv : MirrorSetupCommands(netns_, link.itf, link.tap)) {
      shim::CommandResult r = shim::RunCommand(argv);
      if (r.exit_code != 0) {
        std::string cmd;
        for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
        std::string message = "setting up the tap mirror of " + link.itf.name + ": `" + cmd +
                              "` failed (exit " + std::to_string(r.exit_code) + "): " + r.output;
        throw SandboxError(message);
      }
    }
    if (log_) {
      log_->info("pod network: {} ({} {}/{}) mirrored to {} in {}", link.itf.name, link.itf.mac,
                 link.itf.addresses[0].address, link.itf.addresses[0].prefix_length, link.tap, netns_);
    }
  }
}

PodNetwork::~PodNetwork() { TearDown(); }

void PodNetwork::TearDown() {
  for (const auto& link : links_) {
    for (const auto& argv : MirrorTeardownCommands(netns_, link.itf.name, link.tap)) {
      try {
        shim::CommandResult r = shim::RunCommand(argv);
        if (r.exit_code != 0 && log_) log_->warn("pod network teardown: {}", r.output);
      } catch (const std::exception& e) {
        if (log_) log_->warn("pod network teardown: {}", e.what());
      }
    }
  }
  links_.clear();
}

std::vector<PodRoute> PodNetwork::GuestRoutes() const {
  std::vector<PodRoute> out;
  for (const auto& r : routes_) {
    for (const auto& link : links_) {
      if (link.itf.name == r.device) out.push_back({r.destination, r.gateway, link.guest_name});
    }
  }
  return out;
}


void DescribeForAgent(const PodNetwork& network, shim::agentpb::CreateSandboxRequest& request) {
  for (const auto& link : network.links()) {
    auto* itf = request.add_interfaces();
    itf->set_name(link.guest_name);
    itf->set_mtu(link.itf.mtu);
    for (const auto& a : link.itf.addresses) {
      auto* address = itf->add_addresses();
      address->set_address(a.address);
      address->set_prefix_length(a.prefix_length);
    }
  }
  for (const auto& r : network.GuestRoutes()) {
    auto* route = request.add_routes();
    route->set_destination(r.destination);
    route->set_gateway(r.gateway);
    route->set_device(r.device);
  }
}

}  // namespace hull::vm_sandbox
