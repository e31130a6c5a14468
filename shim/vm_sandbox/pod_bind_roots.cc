#include "vm_sandbox/pod_bind_roots.h"

#include <algorithm>
#include <sstream>

#include "sandbox/host_binds.h"

namespace hull::vm_sandbox {
namespace fs = std::filesystem;

namespace {

// `path` with symlinks and ".." resolved as far as it exists.
fs::path Resolved(const fs::path& path) {
  std::error_code ec;
  fs::path resolved = fs::weakly_canonical(path, ec);
  return ec ? path.lexically_normal() : resolved;
}

bool IsUnder(const fs::path& path, const fs::path& root) {
  auto p = path.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++p) {
    if (r->empty()) continue;  // a trailing separator
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

// <anything>/io.containerd.grpc.v1.cri/sandboxes/<sandbox_id>/...: files
// containerd's CRI plugin made for this pod, in its root or state directory.
bool IsPodCriFile(const fs::path& path, const std::string& sandbox_id) {
  std::vector<std::string> parts;
  for (const auto& part : path) parts.push_back(part.string());
  for (size_t i = 0; i + 3 < parts.size(); ++i) {
    if (parts[i] == "io.containerd.grpc.v1.cri" && parts[i + 1] == "sandboxes" &&
        parts[i + 2] == sandbox_id) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::vector<fs::path> PodBindRoots(const char* variable) {
  std::vector<fs::path> roots{kKubeletPodsDir};
  if (variable == nullptr) return roots;
  std::stringstream entries(variable);
  std::string entry;
  while (std::getline(entries, entry, ':')) {
    if (entry.empty()) continue;
    const fs::path root = fs::path(entry).lexically_normal();
    if (!root.is_absolute() || root == "/") {
      throw PodBindRootsError(
          std::string(kPodBindRootsVariable) + " entry '" + entry +
          "' must be an absolute directory other than /: fix containerd's environment");
    }
    roots.push_back(root);
  }
  return roots;
}

void CheckPodBindSources(const nlohmann::json& spec, const std::string& sandbox_id,
                         const std::vector<fs::path>& roots) {
  if (!spec.is_object() || !spec.contains("mounts") || !spec["mounts"].is_array()) return;
  for (const auto& mount : spec["mounts"]) {
    if (!mount.is_object() || !shim::IsBindMount(mount)) continue;
    const std::string destination = mount.value("destination", std::string());
    if (fs::path(destination).lexically_normal() == "/dev/shm") continue;
    const std::string source_text = mount.value("source", std::string());
    const fs::path source = Resolved(source_text);
    if (!source.is_absolute()) {
      throw PodBindRootsError("bind mount source '" + source_text + "' (for " + destination +
                              ") is not an absolute path");
    }
    if (!sandbox_id.empty() && IsPodCriFile(source, sandbox_id)) continue;
    const bool allowed = std::any_of(roots.begin(), roots.end(), [&](const fs::path& root) {
      return IsUnder(source, Resolved(root));
    });
    if (!allowed) {
      std::string listed;
      for (const auto& root : roots) listed += (listed.empty() ? "" : ", ") + root.string();
      throw PodBindRootsError(
          "volume " + source_text +
          (source.string() != source_text ? " (" + source.string() + ")" : "") + " for " +
          destination + " is outside the host paths a pod may mount (" + listed +
          ", and the pod's own CRI files): a hostPath volume must lie below one of them; a node "
          "administrator can allow more in " +
          kPodBindRootsVariable + " (containerd's environment, colon-separated)");
    }
  }
}

}  // namespace hull::vm_sandbox
