#include "cli/global_options.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

namespace hull::cli {

std::shared_ptr<GlobalOptions> AddGlobalOptions(CLI::App& app) {
  auto options = std::make_shared<GlobalOptions>();
  app.add_option("--root", options->root, "root directory for the state of containers")
      ->capture_default_str();
  app.add_option("--log", options->log, "also write errors to this file");
  app.add_option("--log-format", options->log_format, "format of --log: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_flag("--debug", options->debug, "log more");
  app.add_flag("--systemd-cgroup", options->systemd_cgroup,
               "accepted for runc compatibility (cgroups are managed inside the microVM)");
  return options;
}

void ReportError(const GlobalOptions& options, const std::string& message) {
  std::cerr << "hull: " << message << "\n";
  if (options.log.empty()) return;
  std::ofstream log(options.log, std::ios::app);
  if (!log) return;
  const std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  if (options.log_format == "json") {
    log << nlohmann::json{{"level", "error"}, {"msg", message}, {"time", when}}.dump() << "\n";
  } else {
    log << when << " error: " << message << "\n";
  }
}

}  // namespace hull::cli
