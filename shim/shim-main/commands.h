// The three things containerd-shim-hull-v2 does, one per action.
#pragma once

#include <ostream>
#include <string>

#include "shim-main/shim_flags.h"

namespace hull::shim_main {

struct ShimEnvironment {
  std::string socket_root = "/run/containerd";  // sockets go to <root>/s/
  std::string self_exe = "/proc/self/exe";      // what `start` runs to serve
};

// `start`: binds the pod's shim socket (or finds the running shim of the pod),
// spawns `serve` with the socket on fd 3, writes `address` into the bundle
// (the cwd) and prints the address. Returns the exit code.
int RunStart(const ShimFlags& flags, const ShimEnvironment& env, std::ostream& out);

// `delete`: cleans up after a shim that is gone and prints a DeleteResponse
// (protobuf) for containerd.
int RunDelete(const ShimFlags& flags, std::ostream& out);

// (no action): serves the Task service until Shutdown or SIGTERM/SIGINT.
int RunServe(const ShimFlags& flags);

}  // namespace hull::shim_main
