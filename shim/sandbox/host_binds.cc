#include "sandbox/host_binds.h"

#include <algorithm>
#include <map>
#include <string>

#include "sandbox/sandbox_error.h"

namespace hull::shim {
namespace fs = std::filesystem;

namespace {

nlohmann::json PrivateShm() {
  return {{"destination", "/dev/shm"},
          {"type", "tmpfs"},
          {"source", "shm"},
          {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}};
}

// The bytes under `path` (a file, or a directory's files), symlinks not followed.
uint64_t SizeOf(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(path, ec))) {
    const uintmax_t size = fs::file_size(path, ec);
    return ec ? 0 : size;
  }
  uint64_t total = 0;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

}  // namespace

bool IsBindMount(const nlohmann::json& mount) {
  if (mount.value("type", std::string()) == "bind") return true;
  if (!mount.contains("options") || !mount["options"].is_array()) return false;
  const auto& o = mount["options"];
  return std::any_of(o.begin(), o.end(), [](const nlohmann::json& v) {
    return v.is_string() && (v == "bind" || v == "rbind");
  });
}

int StageHostBinds(nlohmann::json& config, const fs::path& staging_dir) {
  if (!config.contains("mounts") || !config["mounts"].is_array()) return 0;
  int copied = 0;
  for (auto& mount : config["mounts"]) {
    if (!mount.is_object() || !IsBindMount(mount)) continue;
    const std::string destination = mount.value("destination", std::string());
    if (destination == "/dev/shm") {
      mount = PrivateShm();
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

std::vector<ImageFile> TakeBindsIntoImage(nlohmann::json& config) {
  std::vector<ImageFile> files;
  if (!config.contains("mounts") || !config["mounts"].is_array()) return files;
  nlohmann::json kept = nlohmann::json::array();
  for (auto& mount : config["mounts"]) {
    if (!mount.is_object() || !IsBindMount(mount)) {
      kept.push_back(std::move(mount));
      continue;
    }
    const std::string destination_text = mount.value("destination", std::string());
    const fs::path destination = fs::path(destination_text).lexically_normal();
    if (destination == "/dev/shm") {
      kept.push_back(PrivateShm());
      continue;
    }
    const fs::path raw(destination_text);
    const bool climbs = std::any_of(raw.begin(), raw.end(), [](const fs::path& p) { return p == ".."; });
    if (!destination.is_absolute() || destination == "/" || climbs) {
      throw SandboxError("bind mount destination '" + destination_text +
                         "' must be an absolute path below / without '..'");
    }
    const fs::path source = mount.value("source", std::string());
    std::error_code ec;
    const auto status = fs::status(source, ec);
    if (ec || !(fs::is_regular_file(status) || fs::is_directory(status))) {
      throw SandboxError("bind mount source " + source.string() + " (for " + destination_text +
                         ") does not exist on the host or is neither a file nor a directory");
    }
    files.push_back({source, destination});
  }
  config["mounts"] = std::move(kept);
  return files;
}

void StageImageFiles(const std::vector<ImageFile>& files, const fs::path& staging_dir, uint64_t max_bytes) {
  uint64_t total = 0;
  for (const ImageFile& file : files) {
    total += SizeOf(file.source);
    if (total > max_bytes) {
      throw SandboxError("bind mount sources add up to more than " + std::to_string(max_bytes >> 20) +
                         " MiB (at " + file.source.string() +
                         "): hull copies them into the microVM's rootfs image; put large data in the image");
    }
    const fs::path target = staging_dir / file.destination.relative_path();
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (!ec) {
      fs::copy(file.source, target,
               fs::copy_options::recursive | fs::copy_options::copy_symlinks | fs::copy_options::overwrite_existing, ec);
    }
    if (ec) {
      throw SandboxError("cannot copy bind mount source " + file.source.string() + " into the microVM's image at " +
                         file.destination.string() + ": " + ec.message());
    }
  }
}

CriIdentity CriIdentityOf(const nlohmann::json& config) {
  CriIdentity identity;
  if (!config.is_object() || !config.contains("annotations") || !config["annotations"].is_object()) return identity;
  const auto& annotations = config["annotations"];
  const std::string type = annotations.value(kCriContainerTypeAnnotation, std::string());
  if (type == "sandbox") {
    identity.role = CriRole::kSandbox;
  } else if (type == "container") {
    identity.role = CriRole::kContainer;
  } else {
    return identity;
  }
  identity.sandbox_id = annotations.value(kCriSandboxIdAnnotation, std::string());
  return identity;
}

int JoinSandboxNamespaces(nlohmann::json& config, uint32_t sandbox_guest_pid) {
  // OCI namespace types and their /proc/<pid>/ns/ names.
  static const std::map<std::string, std::string> kProcName = {
      {"pid", "pid"}, {"ipc", "ipc"}, {"uts", "uts"}, {"mount", "mnt"}, {"user", "user"}, {"cgroup", "cgroup"}};
  if (!config.contains("linux") || !config["linux"].is_object()) return 0;
  auto& linux_section = config["linux"];
  if (!linux_section.contains("namespaces") || !linux_section["namespaces"].is_array()) return 0;
  int rewritten = 0;
  for (auto& ns : linux_section["namespaces"]) {
    if (!ns.is_object() || ns.value("path", std::string()).empty()) continue;
    const auto it = kProcName.find(ns.value("type", std::string()));
    if (it == kProcName.end()) continue;  // network (and unknown types) stay as they are
    ns["path"] = "/proc/" + std::to_string(sandbox_guest_pid) + "/ns/" + it->second;
    ++rewritten;
  }
  return rewritten;
}

bool HasOwnPidNamespace(const nlohmann::json& config) {
  if (!config.is_object() || !config.contains("linux") || !config["linux"].is_object()) return false;
  const auto& linux_section = config["linux"];
  if (!linux_section.contains("namespaces") || !linux_section["namespaces"].is_array()) return false;
  for (const auto& ns : linux_section["namespaces"]) {
    if (ns.is_object() && ns.value("type", std::string()) == "pid") return ns.value("path", std::string()).empty();
  }
  return false;
}

}  // namespace hull::shim
