// Starts a container process: the init of a new container (namespaces, rootfs,
// pivot_root, ...) or an extra process setns'd into a running one. The process
// is created and then waits before exec until start() (runc's two phases).
//
// Process tree: the agent forks an intermediate child that joins the cgroup,
// the user namespace and the pid namespace, then forks the process itself and
// exits; the process is reparented to the agent (PID 1 in the guest, a child
// subreaper on a host). Every step reports over a SOCK_SEQPACKET pair.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "oci/spec.h"
#include "runtime/hooks.h"
#include "runtime/process_io.h"
#include "runtime/reaper.h"
#include "runtime/seccomp_filter.h"
#include "runtime/unique_fd.h"

namespace hull::runtime {

struct RootfsPlan {
  std::string rootfs;               // absolute path in the agent's mount namespace
  const oci::Spec* spec = nullptr;  // mounts, devices, masked/readonly paths, sysctl, hooks, ...
  HookState hook_state;  // for createContainer/startContainer hooks (no pid: it is 1 in here)
};

struct LaunchPlan {
  int unshare_flags = 0;                       // CLONE_NEW* to create (not CLONE_NEWUSER/NEWPID)
  std::vector<std::pair<int, UniqueFd>> join;  // (CLONE_NEW*, fd) to setns, any but user/pid
  bool new_user_ns = false;
  std::string uid_map, gid_map;  // written by the agent for a new user namespace
  UniqueFd join_user, join_pid;  // setns targets in the intermediate child
  bool new_pid_ns = false;
  UniqueFd cgroup_procs;             // the cgroup's cgroup.procs, opened for writing
  std::optional<RootfsPlan> rootfs;  // init only
  std::string hostname;              // init with a new uts namespace
  oci::Process process;
  uint32_t uid = 0, gid = 0;  // resolved (username lookups done)
  std::optional<SeccompProgram> seccomp;
  ChildStdio stdio;
  bool setsid = true;
  // Out: with stdio.terminal, the pty master the process made in its devpts.
  UniqueFd terminal_master;
};

class Launched {
 public:
  Launched(pid_t pid, UniqueFd sync) : pid_(pid), sync_(std::move(sync)) {}
  pid_t pid() const { return pid_; }
  // Lets the process exec; throws with the child's reason if exec failed.
  void start();

 private:
  pid_t pid_;
  UniqueFd sync_;
};

// Runs the plan up to "ready" (everything but exec). On failure the children
// are killed and reaped and RuntimeError carries the child's message.
Launched launch(Reaper& reaper, LaunchPlan& plan);

}  // namespace hull::runtime
