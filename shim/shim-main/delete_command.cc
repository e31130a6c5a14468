#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "sandbox/vmm_process.h"
#include "shim-main/commands.h"
#include "shim-main/shim_socket.h"
#include "vm_sandbox/sandbox_state.h"

namespace hull::shim_main {

int RunDelete(const ShimFlags& flags, std::ostream& out) {
  if (flags.id.empty()) throw ShimUsageError("delete needs -id (the task id)");
  std::filesystem::path bundle = flags.bundle.empty() ? std::filesystem::current_path() : std::filesystem::path(flags.bundle);

  // The shim is gone (that is why containerd runs delete). A socket nobody
  // answers on any more is its leftover; a live one serves other containers
  // of the pod and stays.
  // containerd also runs delete after each normal task delete (when it closes
  // that task's connection): then the live shim owns the pod's VM, which its
  // other containers still run in, and has already removed this task.
  std::ifstream address_file(bundle / "address");
  std::string address;
  bool shim_alive = false;
  if (address_file && std::getline(address_file, address) && !address.empty()) {
    shim_alive = CanConnect(address);
    if (!shim_alive) RemoveSocket(address);
  }

  // The shim is gone but its VMM may not be: stop it and remove the sandbox's
  // state (a rootfs still mounted from an interrupted Create included).
  const auto state_dir = vm_sandbox::SandboxStateDir(flags.namespace_, flags.id);
  if (!shim_alive) shim::CleanUpLeftoverVmmJail(state_dir);  // a jailed VMM and its cgroup
  const std::string cleaned =
      shim_alive ? std::string() : vm_sandbox::CleanUpSandboxState(state_dir, bundle / "rootfs");
  if (!cleaned.empty()) std::cerr << "containerd-shim-hull-v2 delete: " << cleaned << "\n";
  // Every process of the task lived in that VM: all of them are gone now.
  ::containerd::task::v2::DeleteResponse response;
  response.set_pid(0);
  response.set_exit_status(128 + SIGKILL);
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now);
  response.mutable_exited_at()->set_seconds(seconds.count());
  response.mutable_exited_at()->set_nanos(
      static_cast<int32_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - seconds).count()));
  out << response.SerializeAsString();
  return 0;
}

}  // namespace hull::shim_main
