#include "cli/container_control.h"

#include <signal.h>

#include <chrono>
#include <thread>

#include "sandbox/container_agent.h"
#include "sandbox/vm_socket_dir.h"
#include "sandbox/vmm_process.h"
#include "sandbox/sandbox_error.h"

namespace hull::cli {
namespace {

constexpr int kFailedPrecondition = 9;

bool WaitGone(const shim::ProcessIdentity& who, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (shim::IsAlive(who)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

void KillAndWait(const shim::ProcessIdentity& who, const char* what) {
  if (!shim::IsAlive(who)) return;
  ::kill(who.pid, SIGKILL);
  if (!WaitGone(who, std::chrono::seconds(10))) {
    throw shim::SandboxError(std::string(what) + " (pid " + std::to_string(who.pid) +
                             ") did not die after SIGKILL");
  }
}

}  // namespace

LockedContainer LoadLocked(const shim::ContainerStore& store, const std::string& id) {
  LockedContainer c;
  c.lock = store.Lock(id);
  c.record = store.Load(id);
  c.status = shim::EffectiveStatus(c.record);
  return c;
}

void RequireRunning(const std::string& status, bool paused_ok) {
  if (status == "running" || (paused_ok && status == "paused")) return;
  if (status == "paused") throw shim::SandboxError("container paused", kFailedPrecondition);
  throw shim::SandboxError("container not running", kFailedPrecondition);
}

std::unique_ptr<shim::AgentClient> AgentOf(const shim::ContainerStore& store, const std::string& id) {
  return shim::DialContainerAgent(store.Dir(id));
}

void StopContainerProcesses(const shim::ContainerStore& store, const shim::ContainerRecord& record) {
  if (record.status == "stopped") WaitGone(record.keeper, std::chrono::seconds(15));
  KillAndWait(record.keeper, "the container's keeper process");
  KillAndWait(record.vmm, "hull-vmm");
  // The keeper's VMM removes its jail when it stops; a killed keeper's does not.
  shim::CleanUpLeftoverVmmJail(store.Dir(record.id));
  shim::RemoveVmSocketDir(store.Dir(record.id));  // a killed keeper's VM left its sockets
}

}  // namespace hull::cli
