// Where a shim keeps one sandbox's state, and how `containerd-shim-hull-v2
// delete` cleans it up after the shim itself died (kill -9, OOM): the VMM
// outlives its shim, so its pid is recorded next to its sockets.
#pragma once

#include <filesystem>
#include <string>
#include <sys/types.h>

namespace hull::vm_sandbox {

// /run/hull/shim/<hash of namespace/id>: short, because the VM's unix sockets
// live there and sun_path allows 107 bytes.
std::filesystem::path SandboxStateDir(const std::string& containerd_namespace, const std::string& id);

// Records the VMM's pid in state_dir/vmm.pid.
void RecordVmmPid(const std::filesystem::path& state_dir, pid_t pid);

// Kills the recorded VMM (only if that pid still is a hull-vmm serving this
// state dir), unmounts `rootfs_mountpoint` if something is mounted there, and
// removes the state directory. Never throws; returns what it did, for the log.
std::string CleanUpSandboxState(const std::filesystem::path& state_dir,
                                const std::filesystem::path& rootfs_mountpoint);

}  // namespace hull::vm_sandbox
