// Reading an OCI bundle for `hull create`: config.json and where its rootfs is.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace hull::cli {

struct BundleConfig {
  std::filesystem::path bundle;   // absolute
  std::string config_text;        // config.json as given (the agent parses it again)
  nlohmann::json config;
  std::filesystem::path rootfs;   // absolute, symlinks resolved
  std::map<std::string, std::string> annotations;
  bool terminal = false;          // process.terminal
};

// Throws shim::SandboxError naming what is missing or malformed and what to do.
BundleConfig LoadBundleConfig(const std::filesystem::path& bundle);

}  // namespace hull::cli
