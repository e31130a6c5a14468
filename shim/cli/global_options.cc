#include "cli/global_options.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <utility>

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

namespace {

void Report(const GlobalOptions& options, const char* level, const std::string& text) {
  const std::string message = WithGoErrnoText(text);
  std::cerr << "hull: " << (std::string(level) == "error" ? "" : std::string(level) + ": ") << message << "\n";
  if (options.log.empty()) return;
  std::ofstream log(options.log, std::ios::app);
  if (!log) return;
  const std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  if (options.log_format == "json") {
    log << nlohmann::json{{"level", level}, {"msg", message}, {"time", when}}.dump() << "\n";
  } else {
    log << when << " " << level << ": " << message << "\n";
  }
}

}  // namespace

std::string WithGoErrnoText(std::string message) {
  for (const auto& [c_text, go_text] : {std::pair<std::string, std::string>{"No such file or directory", "no such file or directory"},
                                        {"Permission denied", "permission denied"}}) {
    for (size_t at = message.find(c_text); at != std::string::npos; at = message.find(c_text, at + go_text.size())) {
      message.replace(at, c_text.size(), go_text);
    }
  }
  return message;
}

void ReportError(const GlobalOptions& options, const std::string& message) { Report(options, "error", message); }

void ReportWarning(const GlobalOptions& options, const std::string& message) {
  Report(options, "warning", message);
}

}  // namespace hull::cli
