// OCI lifecycle hooks: the program gets the container state JSON on stdin,
// runs with the hook's args/env, and is killed after its timeout.
#pragma once

#include <string>
#include <vector>

#include "oci/spec.h"
#include "runtime/reaper.h"

namespace hull::runtime {

struct HookState {
  std::string oci_version, id, status, bundle;
  int pid = 0;
  std::string json() const;
};

// Runs `hooks` in order from the agent (createRuntime, poststart, poststop).
// Throws RuntimeError naming `phase` and the hook on the first failure.
void run_hooks(Reaper& reaper, const std::vector<oci::Hook>& hooks, const HookState& state,
               const std::string& phase);

// The same from inside a container process (createContainer, startContainer):
// a single-threaded child that waits for its own children with waitpid.
void run_hooks_in_child(const std::vector<oci::Hook>& hooks, const HookState& state,
                        const std::string& phase);

}  // namespace hull::runtime
