// What runs in the container process between fork and exec. Only the
// launcher calls these; they throw RuntimeError, which the child reports to
// the agent before exiting.
#pragma once

#include "runtime/launcher.h"

namespace hull::runtime::child {

// Mounts, devices, pivot_root, masked/readonly paths, sysctl.
void setup_rootfs(const RootfsPlan& plan);
// stdio as fds 0-2, new session, controlling terminal.
void setup_stdio(const LaunchPlan& plan);
// Everything after the start signal: rlimits, oom score, user, caps, nnp,
// seccomp, cwd, then execvp. Returns only by throwing.
[[noreturn]] void finish_and_exec(const LaunchPlan& plan);

}  // namespace hull::runtime::child
