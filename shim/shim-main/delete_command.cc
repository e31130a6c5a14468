#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "shim-main/commands.h"
#include "shim-main/shim_socket.h"

namespace hull::shim_main {

int RunDelete(const ShimFlags& flags, std::ostream& out) {
  if (flags.id.empty()) throw ShimUsageError("delete needs -id (the task id)");
  std::filesystem::path bundle = flags.bundle.empty() ? std::filesystem::current_path() : std::filesystem::path(flags.bundle);

  // The shim is gone (that is why containerd runs delete). A socket nobody
  // answers on any more is its leftover; a live one serves other containers
  // of the pod and stays.
  std::ifstream address_file(bundle / "address");
  std::string address;
  if (address_file && std::getline(address_file, address) && !address.empty() && !CanConnect(address)) {
    RemoveSocket(address);
  }

  // No process of this task can outlive its shim: the VM held them all.
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
