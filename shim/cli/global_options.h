// runc's global flags, which come before the verb (`hull --root /x run id`),
// so Podman and Docker can drive hull exactly like runc.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace hull::cli {

struct GlobalOptions {
  // State of every container, one directory each; its own directory, since the
  // shim keeps /run/hull/shim and /run/hull/rootfs-cache (a container named
  // "shim" would collide). An explicit --root is used as is, as runc does.
  std::string root = "/run/hull/containers";
  std::string log;                 // where runtime errors go, besides stderr
  std::string log_format = "text"; // text | json
  bool debug = false;
  bool systemd_cgroup = false;     // accepted for compatibility; cgroups live in the guest
};

// Registers the flags on the top-level app and returns the shared values.
std::shared_ptr<GlobalOptions> AddGlobalOptions(CLI::App& app);

// Reports a failure as runc does: on stderr, and to --log in --log-format.
// Docker and containerd read runc's errors, whose errno texts are Go's, in
// lower case: Docker turns "no such file or directory" (a missing entrypoint)
// into exit status 127. So the C library's "No such file or directory" is
// written in lower case too.
void ReportError(const GlobalOptions& options, const std::string& message);
// The same at level "warning" (a failed poststart or poststop hook: the OCI
// spec says the lifecycle goes on).
void ReportWarning(const GlobalOptions& options, const std::string& message);
// `message` with the C library's errno texts Docker looks for in lower case.
std::string WithGoErrnoText(std::string message);

}  // namespace hull::cli
