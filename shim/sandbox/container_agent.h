// Reaching the agent of a container that the `hull` CLI created: through the
// hybrid-vsock socket its microVM exposes in the container's state directory.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>

#include "sandbox/agent_client.h"

namespace hull::shim {

// The hybrid-vsock socket of the microVM whose state lives in `state_dir`.
std::filesystem::path ContainerVsockSocket(const std::filesystem::path& state_dir);

// Connects to the agent; throws SandboxError ("container not running" when the
// microVM is gone) after `timeout`.
std::unique_ptr<AgentClient> DialContainerAgent(const std::filesystem::path& state_dir,
                                                std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace hull::shim
