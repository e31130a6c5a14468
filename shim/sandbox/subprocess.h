// Runs a helper program (mkfs.erofs, ip, tc ...) and captures its output, so a
// failure can be reported with what the program said.
#pragma once

#include <string>
#include <vector>

namespace hull::shim {

struct CommandResult {
  int exit_code = -1;  // 128+signal when killed by a signal
  std::string output;  // stdout and stderr together
};

// Runs argv[0] (looked up in PATH) without a shell. Throws SandboxError only
// when the program cannot be started at all.
CommandResult RunCommand(const std::vector<std::string>& argv);

// Runs it and throws SandboxError with `what`, the command and its output
// when it does not exit 0.
void RunCommandOrThrow(const std::vector<std::string>& argv, const std::string& what);

}  // namespace hull::shim
