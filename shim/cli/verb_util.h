// What the container verbs (create, start, state, kill, delete, exec, ...) share.
#pragma once

#include <sys/types.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/global_options.h"
#include "sandbox/container_store.h"

namespace hull::cli {

// runc's exit status for any failed verb.
inline constexpr int kExitFailure = 1;

// Runs `body`; a SandboxError (or any std::exception) becomes an error line
// "hull: <what>: <reason>" on stderr and in --log, and exit status 1.
int RunReportingErrors(const GlobalOptions& global, const std::string& what,
                       const std::function<int()>& body);

// Writes `pid` to `path` atomically (temp file + rename), as runc does.
void WritePidFile(const std::string& path, pid_t pid);

inline shim::ContainerStore StoreOf(const GlobalOptions& global) {
  return shim::ContainerStore(global.root);
}

// runc's `list` table: ID PID STATUS BUNDLE CREATED OWNER, columns padded as
// Go's tabwriter (min width 12, padding 3) pads them.
std::string RenderListTable(const std::vector<nlohmann::json>& states);

}  // namespace hull::cli
