// The OCI "process" object `hull exec` runs: from --process FILE, or built
// from the command line on top of the container's own process (its env, user,
// cwd and capabilities), as runc does.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace hull::cli {

struct ExecRequest {
  std::string process_file;        // -p/--process
  std::vector<std::string> args;   // the command after the container id
  std::vector<std::string> env;    // -e/--env KEY=VALUE, appended
  std::string cwd;                 // --cwd
  std::string user;                // -u/--user UID[:GID]
  std::optional<bool> tty;         // -t/--tty when given
};

// `base` is the container's config.json "process" object (ignored with a
// process file). Throws shim::SandboxError naming the problem.
nlohmann::json BuildExecProcess(const ExecRequest& request, const nlohmann::json& base);

}  // namespace hull::cli
