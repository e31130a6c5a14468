// hull-vmm: one microVM per process. `--api-sock` serves the Firecracker-
// shaped API; `--config-file` boots at once from a Firecracker config file.
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <sstream>

#include "api/api_error.h"
#include "config/vm_config.h"
#include "devices/virtio/virtio_fs_set.h"
#include "io/open_file_limit.h"
#include "main/terminal.h"
#include "main/vmm_app.h"

namespace {

// The filters are opt-in until the e2e suites pass with them every time (a
// virtio-net 64 MiB transfer stalled once with them on). Sanitizer runtimes
// also make calls no filter lists (LeakSanitizer's exit check clones).
constexpr bool kSeccompByDefault = false;

using hull::vmm::AppOptions;
namespace config = hull::vmm::config;

spdlog::level::level_enum ParseLevel(const std::string& level) {
  std::string l;
  for (char c : level) l.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (l == "warning") l = "warn";
  const auto parsed = spdlog::level::from_str(l);
  if (parsed == spdlog::level::off && l != "off")
    throw config::ConfigError("unknown log level '" + level + "'");
  return parsed;
}

void SetUpLogging(const std::string& cli_level, const std::optional<config::LoggerConfig>& logger) {
  std::shared_ptr<spdlog::logger> log;
  if (logger && logger->log_path) {
    log = spdlog::basic_logger_mt("hull-vmm", *logger->log_path);
  } else {
    log = spdlog::stderr_logger_mt("hull-vmm");
  }
  const bool show_level = !logger || logger->show_level || !logger->log_path;
  log->set_pattern(show_level ? "%Y-%m-%dT%H:%M:%S.%e [hull-vmm] %l: %v"
                              : "%Y-%m-%dT%H:%M:%S.%e [hull-vmm] %v");
  std::string level = cli_level;
  if (level.empty()) level = logger && logger->level ? *logger->level : "info";
  log->set_level(ParseLevel(level));
  log->flush_on(spdlog::level::info);
  spdlog::set_default_logger(log);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw config::ConfigError("cannot read config file " + path + ": " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int main(int argc, char** argv) {
  AppOptions options;
  options.process_start = std::chrono::steady_clock::now();
  std::string config_file;
  std::string log_level;
  bool no_console_input = false;

  CLI::App cli{"hull-vmm: one KVM microVM (Firecracker-shaped API and config file)", "hull-vmm"};
  cli.add_option("--api-sock", options.api_socket,
                 "Serve the HTTP API on this unix socket (must not exist)");
  cli.add_option("--config-file", config_file,
                 "Boot at once from a Firecracker-style JSON config file")
      ->check(CLI::ExistingFile);
  cli.add_option("--log-level", log_level, "error, warning, info (default), debug, trace or off");
  cli.add_option("--console-output", options.console_output,
                 "Write the guest console to this file or fifo instead of stdout");
  cli.add_flag("--no-console-input", no_console_input, "Do not forward stdin to the guest console");
  cli.add_option("--kvm-device", options.kvm_device, "KVM device node")->capture_default_str();
  std::vector<std::string> fs_flags;
  cli.add_option("--fs", fs_flags,
                 "Share a host directory with the guest over virtio-fs: tag=<tag>,path=<dir>[,readonly] "
                 "(repeatable; in the guest: mount -t virtiofs <tag> <mountpoint>)");
  bool seccomp_on = false;
  bool seccomp_off = false;
  auto* on = cli.add_flag("--seccomp", seccomp_on,
                          "Confine each thread (vCPU, I/O, API) to the system calls it needs; any "
                          "other kills hull-vmm with SIGSYS");
  cli.add_flag("--no-seccomp", seccomp_off, "Run without the per-thread seccomp filters (the default for now)")
      ->excludes(on);
  CLI11_PARSE(cli, argc, argv);
  if (options.api_socket.empty() && config_file.empty()) {
    std::cerr << "hull-vmm: give --api-sock PATH, --config-file FILE, or both (see --help)\n";
    return 2;
  }
  options.console_input = !no_console_input;
  options.seccomp = !seccomp_off && (seccomp_on || kSeccompByDefault);

  config::VmConfig vm_config;
  try {
    if (!config_file.empty()) {
      vm_config = config::ParseVmConfigFile(ReadFile(config_file));
      options.start_at_once = true;
    }
    for (const auto& flag : fs_flags) {
      config::FsConfig fs = config::ParseFsFlag(flag);
      hull::vmm::virtio::CheckFs(fs);
      config::AddFs(vm_config, std::move(fs));
    }
    SetUpLogging(log_level, vm_config.logger);
    spdlog::debug("open file limit {}", hull::vmm::io::RaiseOpenFileLimit());
  } catch (const std::exception& e) {
    std::cerr << "hull-vmm: " << e.what() << "\n";
    return 1;
  }

  try {
    hull::vmm::RawTerminal terminal;
    hull::vmm::VmmApp app(std::move(options), std::move(vm_config));
    return app.Run();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}
