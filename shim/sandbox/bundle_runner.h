// `hull run` in one call: an OCI bundle's container in its own microVM, with
// the container's stdout/stderr copied to ours and its exit status returned.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "sandbox/runtime_paths.h"

namespace hull::shim {

struct BundleRunOptions {
  std::string container_id;
  std::filesystem::path bundle;      // holds config.json and (usually) rootfs/
  std::filesystem::path state_root;  // per-sandbox state goes to state_root/<id>
  RuntimePaths runtime;
  unsigned vcpus = 1;
  unsigned mem_mib = 256;
  std::chrono::seconds agent_timeout{60};  // boot + agent start; generous for nested TCG
  bool keep_state = false;                 // leave state_root/<id> (logs) behind for debugging
};

// Returns the container's exit status (128+signal when killed). Throws
// SandboxError for anything that kept the container from running; the VM and
// the state directory are gone either way (unless keep_state).
int RunBundle(const BundleRunOptions& options);

}  // namespace hull::shim
