#include "sandbox/bundle_runner.h"

#include <unistd.h>

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "sandbox/agent_client.h"
#include "sandbox/microvm.h"
#include "sandbox/rootfs_image.h"
#include "sandbox/sandbox_error.h"

namespace hull::shim {
namespace fs = std::filesystem;

namespace {

constexpr uint32_t kAgentPort = 1024;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) return;  // our stdout went away; nothing useful left to do
    done += static_cast<size_t>(n);
  }
}

// Same rule as runc: [A-Za-z0-9][A-Za-z0-9_.-]{0,127}.
bool IsValidContainerId(const std::string& id) {
  if (id.empty() || id.size() > 128 || !std::isalnum(static_cast<unsigned char>(id[0]))) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

// Removes the sandbox's state directory when the run ends, however it ends.
class StateDirGuard {
 public:
  StateDirGuard(fs::path dir, bool keep) : dir_(std::move(dir)), keep_(keep) {}
  ~StateDirGuard() {
    std::error_code ec;
    if (!keep_) fs::remove_all(dir_, ec);
  }

 private:
  fs::path dir_;
  bool keep_;
};

}  // namespace

int RunBundle(const BundleRunOptions& options) {
  if (!IsValidContainerId(options.container_id)) {
    throw SandboxError("invalid container id '" + options.container_id +
                       "': use letters, digits, '_', '.', '-' (at most 128, not starting with a "
                       "symbol)");
  }
  const fs::path config_path = options.bundle / "config.json";
  std::error_code ec;
  if (!fs::is_regular_file(config_path, ec)) {
    throw SandboxError("no config.json in bundle " + options.bundle.string() +
                       " (create one with `hull spec`)");
  }
  const std::string config_text = ReadFile(config_path);
  nlohmann::json config = nlohmann::json::parse(config_text, nullptr, false);
  if (config.is_discarded() || !config.is_object()) {
    throw SandboxError(config_path.string() + " is not valid JSON");
  }
  const std::string root_path = config.value("/root/path"_json_pointer, std::string("rootfs"));
  const fs::path rootfs_given = fs::path(root_path).is_absolute() ? fs::path(root_path)
                                                                  : options.bundle / root_path;
  // Resolve symlinks (a bundle's rootfs is often one) before handing it to mkfs.
  const fs::path rootfs = fs::weakly_canonical(rootfs_given, ec);

  const fs::path state_dir = options.state_root / options.container_id;
  if (fs::exists(state_dir, ec)) {
    throw SandboxError("a container named '" + options.container_id + "' already exists (state in " +
                       state_dir.string() + "); delete it or pick another id");
  }
  fs::create_directories(state_dir, ec);
  if (ec) throw SandboxError("cannot create " + state_dir.string() + ": " + ec.message());
  StateDirGuard state_guard(state_dir, options.keep_state);

  const fs::path image = state_dir / "rootfs.erofs";
  BuildErofsImage(rootfs, image);

  // Declared before the VM: its taps go after the VMM that holds them.
  std::unique_ptr<GuestNetwork> network;
  if (options.network) network = options.network(config_text, state_dir / "network.log");

  MicroVmSpec spec;
  spec.id = options.container_id;
  spec.state_dir = state_dir;
  spec.runtime = options.runtime;
  spec.vcpus = options.vcpus;
  spec.mem_mib = options.mem_mib;
  spec.drives.push_back({"rootfs", image, /*read_only=*/true});
  if (network) {
    spec.netns = network->netns();
    spec.nets = network->Nics();
  }
  MicroVm vm(spec);

  AgentClient agent(vm.DialGuest(kAgentPort, std::chrono::steady_clock::now() + options.agent_timeout));
  agent.Health();

  agentpb::CreateSandboxRequest sandbox;
  sandbox.set_sandbox_id(options.container_id);
  sandbox.set_hostname(config.value("hostname", options.container_id));
  if (network) network->Describe(sandbox);
  agent.CreateSandbox(sandbox);

  agentpb::CreateContainerRequest create;
  create.set_container_id(options.container_id);
  create.set_oci_config_json(network ? network->ConfigForGuest(config_text) : config_text);
  auto* block = create.mutable_rootfs()->mutable_block();
  block->set_device("/dev/vda");
  block->set_fstype("erofs");
  block->set_writable_overlay(true);
  agent.CreateContainer(create);

  std::thread out([&] {
    try {
      agent.CopyOutput(options.container_id, "", false, [](const std::string& d) { WriteAll(1, d); });
    } catch (const SandboxError&) {
    }
  });
  std::thread err([&] {
    try {
      agent.CopyOutput(options.container_id, "", true, [](const std::string& d) { WriteAll(2, d); });
    } catch (const SandboxError&) {
    }
  });
  int exit_status = -1;
  try {
    agent.StartContainer(options.container_id);
    agent.CloseStdin(options.container_id, "");
    exit_status = agent.WaitProcess(options.container_id, "").exit_status();
  } catch (...) {
    vm.process().Kill();  // ends the output streams too
    out.join();
    err.join();
    throw;
  }
  out.join();
  err.join();
  try {
    agent.RemoveContainer(options.container_id);
    agent.DestroySandbox(/*shutdown_vm=*/true);
  } catch (const SandboxError&) {
    // The container already ran; a failed tidy-up inside the guest does not
    // change its result, and the VM is stopped below regardless.
  }
  vm.WaitForShutdown(std::chrono::seconds(10));
  return exit_status;
}

}  // namespace hull::shim
