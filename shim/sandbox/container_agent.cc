#include "sandbox/container_agent.h"

#include "sandbox/container_keeper.h"
#include "sandbox/sandbox_error.h"
#include "sandbox/vm_socket_dir.h"
#include "sandbox/vsock_dialer.h"

namespace hull::shim {

std::filesystem::path ContainerVsockSocket(const std::filesystem::path& state_dir) {
  return VmSocketDirFor(state_dir) / "vsock.sock";
}

std::unique_ptr<AgentClient> DialContainerAgent(const std::filesystem::path& state_dir,
                                                std::chrono::milliseconds timeout) {
  const auto socket = ContainerVsockSocket(state_dir);
  std::error_code ec;
  if (!std::filesystem::exists(socket, ec)) {
    throw SandboxError("container not running (its microVM socket " + socket.string() + " is gone)",
                       /*FAILED_PRECONDITION*/ 9);
  }
  return std::make_unique<AgentClient>(
      DialGuestPort(socket, kAgentVsockPort, std::chrono::steady_clock::now() + timeout));
}

}  // namespace hull::shim
