// Steps the lifecycle verbs share: loading a container under its lock,
// checking its status with runc's messages, and stopping its host processes.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "sandbox/agent_client.h"
#include "sandbox/container_store.h"

namespace hull::cli {

// A container loaded while holding its lock (released on destruction).
struct LockedContainer {
  shim::ContainerLock lock;
  shim::ContainerRecord record;
  std::string status;  // EffectiveStatus at load time
};

LockedContainer LoadLocked(const shim::ContainerStore& store, const std::string& id);

// Throws SandboxError "container not running" unless the status is running
// or (when allowed) paused.
void RequireRunning(const std::string& status, bool paused_ok);

std::unique_ptr<shim::AgentClient> AgentOf(const shim::ContainerStore& store, const std::string& id);

// Makes sure the keeper and the VMM of `record` are gone: a keeper that already
// recorded the exit gets a moment to tear its VM down itself, the rest is SIGKILLed,
// and a jail the killed VMM left behind is removed.
void StopContainerProcesses(const shim::ContainerStore& store, const shim::ContainerRecord& record);

}  // namespace hull::cli
