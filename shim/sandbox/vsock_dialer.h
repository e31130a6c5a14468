// Host side of Firecracker's "hybrid vsock": hull-vmm exposes the guest's vsock
// as a unix socket; a client connects, writes "CONNECT <port>\n" and reads
// "OK <host port>\n", after which the stream is the guest port's connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>

#include "sandbox/unique_fd.h"

namespace hull::shim {

// One attempt. Throws SandboxError (refused, closed, garbage reply, timeout).
UniqueFd DialGuestPortOnce(const std::filesystem::path& vsock_uds, uint32_t port,
                           std::chrono::milliseconds timeout);

// Retries until `deadline` passes: right after boot the guest's listener is
// not up yet, and the VMM answers such CONNECTs by closing the stream.
UniqueFd DialGuestPort(const std::filesystem::path& vsock_uds, uint32_t port,
                       std::chrono::steady_clock::time_point deadline);

}  // namespace hull::shim
