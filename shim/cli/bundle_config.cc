#include "cli/bundle_config.h"

#include <fstream>

#include "sandbox/sandbox_error.h"

namespace hull::cli {
namespace fs = std::filesystem;
using shim::SandboxError;

BundleConfig LoadBundleConfig(const fs::path& bundle_in) {
  BundleConfig b;
  std::error_code ec;
  b.bundle = fs::absolute(bundle_in, ec);
  if (!fs::is_directory(b.bundle, ec)) {
    throw SandboxError("bundle " + b.bundle.string() + " does not exist or is not a directory");
  }
  const fs::path config_path = b.bundle / "config.json";
  std::ifstream in(config_path, std::ios::binary);
  if (!in) {
    throw SandboxError("no config.json in bundle " + b.bundle.string() +
                       " (create one with `hull spec`)");
  }
  b.config_text.assign(std::istreambuf_iterator<char>(in), {});
  b.config = nlohmann::json::parse(b.config_text, nullptr, /*allow_exceptions=*/false);
  if (b.config.is_discarded() || !b.config.is_object()) {
    throw SandboxError(config_path.string() + " is not a JSON object (see `hull spec` for the shape)");
  }
  if (!b.config.contains("process") || !b.config["process"].is_object()) {
    throw SandboxError(config_path.string() + " has no \"process\" object: hull needs the program to run");
  }
  const auto& process = b.config["process"];
  if (process.contains("terminal")) {
    if (!process["terminal"].is_boolean()) {
      throw SandboxError(config_path.string() + ": process.terminal must be true or false");
    }
    b.terminal = process["terminal"].get<bool>();
  }
  std::string root = "rootfs";
  if (b.config.contains("root")) {
    const auto& r = b.config["root"];
    if (!r.is_object() || !r.contains("path") || !r["path"].is_string()) {
      throw SandboxError(config_path.string() + ": root.path must be a string");
    }
    root = r["path"].get<std::string>();
  }
  const fs::path given = fs::path(root).is_absolute() ? fs::path(root) : b.bundle / root;
  b.rootfs = fs::weakly_canonical(given, ec);
  if (ec || !fs::is_directory(b.rootfs, ec)) {
    throw SandboxError("the container's root filesystem " + given.string() +
                       " (root.path in config.json) does not exist or is not a directory");
  }
  if (b.config.contains("annotations")) {
    const auto& a = b.config["annotations"];
    if (!a.is_object()) throw SandboxError(config_path.string() + ": annotations must be an object");
    for (const auto& [key, value] : a.items()) {
      if (!value.is_string()) {
        throw SandboxError(config_path.string() + ": annotation '" + key + "' must be a string");
      }
      b.annotations[key] = value.get<std::string>();
    }
  }
  return b;
}

}  // namespace hull::cli
