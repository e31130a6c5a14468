#include "sandbox/host_binds.h"

#include <algorithm>
#include <string>

#include "sandbox/sandbox_error.h"

namespace hull::shim {
namespace fs = std::filesystem;

namespace {

bool IsBind(const nlohmann::json& mount) {
  if (mount.value("type", std::string()) == "bind") return true;
  if (!mount.contains("options") || !mount["options"].is_array()) return false;
  const auto& o = mount["options"];
  return std::any_of(o.begin(), o.end(), [](const nlohmann::json& v) {
    return v.is_string() && (v == "bind" || v == "rbind");
  });
}

}  // namespace

int StageHostBinds(nlohmann::json& config, const fs::path& staging_dir) {
  if (!config.contains("mounts") || !config["mounts"].is_array()) return 0;
  int copied = 0;
  for (auto& mount : config["mounts"]) {
    if (!mount.is_object() || !IsBind(mount)) continue;
    const std::string destination = mount.value("destination", std::string());
    if (destination == "/dev/shm") {
      mount = {{"destination", "/dev/shm"},
               {"type", "tmpfs"},
               {"source", "shm"},
               {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}};
      continue;
    }
    const fs::path source = mount.value("source", std::string());
    std::error_code ec;
    const auto status = fs::status(source, ec);
    if (ec || !(fs::is_regular_file(status) || fs::is_directory(status))) {
      throw SandboxError("bind mount source " + source.string() + " (for " + destination +
                         ") does not exist on the host or is neither a file nor a directory");
    }
    fs::create_directories(staging_dir, ec);
    const fs::path copy = staging_dir / std::to_string(copied);
    fs::copy(source, copy, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (ec) {
      throw SandboxError("cannot copy bind mount source " + source.string() + " for the microVM: " +
                         ec.message());
    }
    mount["source"] = std::string(kGuestBindsDir) + "/" + std::to_string(copied);
    ++copied;
  }
  return copied;
}

}  // namespace hull::shim
