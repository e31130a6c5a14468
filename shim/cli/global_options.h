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
void ReportError(const GlobalOptions& options, const std::string& message);

}  // namespace hull::cli
