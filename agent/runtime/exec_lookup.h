// The create-time check of the container's program. runc's init looks the
// program up (Go's exec.LookPath) before it reports the container created, so
// a missing entrypoint fails `create` with
//   exec: "/nope": stat /nope: no such file or directory
//   exec: "nope": executable file not found in $PATH
// which Docker and Podman turn into exit status 127 (126 for "permission
// denied"). The agent does the same in the container process, in its final
// root, before it reports ready.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace hull::runtime {

// Looks up `program` (process.args[0]) as execvp will: a name with a '/' as a
// path (relative ones from `cwd`), else along PATH from `env` (glibc's
// default /bin:/usr/bin without one). Returns Go's error text when it is
// missing or not an executable file; nullopt when exec may go ahead.
std::optional<std::string> find_executable_error(const std::string& program, const std::vector<std::string>& env,
                                                 const std::string& cwd);

}  // namespace hull::runtime
