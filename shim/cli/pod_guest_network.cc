#include "cli/pod_guest_network.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include "sandbox/subprocess.h"
#include "vm_sandbox/pod_network.h"

namespace hull::cli {
namespace {

class PodGuestNetwork final : public shim::GuestNetwork {
 public:
  PodGuestNetwork(const std::string& netns, std::shared_ptr<spdlog::logger> log)
      : pod_(netns, std::move(log)) {}

  std::string netns() const override { return pod_.netns(); }
  std::vector<shim::NetSpec> Nics() const override {
    std::vector<shim::NetSpec> nics;
    for (const auto& link : pod_.links()) nics.push_back({link.guest_name, link.tap, link.itf.mac});
    return nics;
  }
  std::vector<Mirror> Mirrors() const override {
    std::vector<Mirror> mirrors;
    for (const auto& link : pod_.links()) mirrors.push_back({link.itf.name, link.tap});
    return mirrors;
  }
  void Describe(shim::agentpb::CreateSandboxRequest& request) const override {
    vm_sandbox::DescribeForAgent(pod_, request);
  }
  std::string ConfigForGuest(const std::string& config_json) const override {
    return vm_sandbox::WithoutNetworkNamespace(config_json);
  }

 private:
  vm_sandbox::PodNetwork pod_;
};

std::shared_ptr<spdlog::logger> FileLogger(const std::filesystem::path& file) {
  if (file.empty()) return nullptr;
  try {
    auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string());
    auto log = std::make_shared<spdlog::logger>("network", std::move(sink));
    log->flush_on(spdlog::level::info);
    return log;
  } catch (const spdlog::spdlog_ex&) {
    return nullptr;  // diagnostics only: the network works without them
  }
}

}  // namespace

shim::GuestNetworkFactory PodGuestNetworkFactory() {
  return [](const std::string& config_json,
            const std::filesystem::path& log_file) -> std::unique_ptr<shim::GuestNetwork> {
    const auto netns = vm_sandbox::NetworkNamespacePath(config_json);
    if (!netns) return nullptr;
    return std::make_unique<PodGuestNetwork>(*netns, FileLogger(log_file));
  };
}

void RemoveRecordedMirrors(const shim::ContainerRecord& record) {
  if (record.netns.empty()) return;
  for (const auto& [veth, tap] : record.mirrors) {
    try {
      // Only a mirror whose tap is still there: the keeper removes its own, and
      // the veth's ingress qdisc may since belong to someone else.
      if (shim::RunCommand({"nsenter", "--net=" + record.netns, "ip", "link", "show", "dev", tap})
              .exit_code != 0) {
        continue;
      }
      for (const auto& argv : vm_sandbox::MirrorTeardownCommands(record.netns, veth, tap)) {
        shim::RunCommand(argv);
      }
    } catch (const std::exception&) {
      // nsenter or ip missing: nothing hull could have set up there either
    }
  }
}

}  // namespace hull::cli
