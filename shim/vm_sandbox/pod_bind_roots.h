// Where on the host a Kubernetes pod's bind mounts may come from. The shim
// copies every bind source into the pod's microVM, so a pod that names
// /etc/shadow or /root as a hostPath volume would carry a host secret into a
// guest its author controls: for CRI pods only sources below an allowed root
// are taken (as Kata's sandbox_bind_mounts and volume allowlists narrow what
// reaches a guest). Allowed:
//   - the pod's own files of containerd's CRI plugin (hostname, hosts,
//     resolv.conf, shm: <containerd root or state>/io.containerd.grpc.v1.cri/
//     sandboxes/<this pod's sandbox id>/...),
//   - kubelet's pod directories (/var/lib/kubelet/pods: emptyDir, configMap,
//     secret, projected volumes, etc-hosts, termination-log),
//   - the roots the node's administrator lists in HULL_POD_BIND_ROOTS
//     (colon-separated absolute paths, in containerd's environment).
// Paths are compared after resolving symlinks and "..".
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace hull::vm_sandbox {

// A bind source outside the allowed roots, or a bad HULL_POD_BIND_ROOTS.
class PodBindRootsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr char kPodBindRootsVariable[] = "HULL_POD_BIND_ROOTS";
inline constexpr char kKubeletPodsDir[] = "/var/lib/kubelet/pods";

// kKubeletPodsDir plus the entries of `variable` (HULL_POD_BIND_ROOTS's value;
// null or empty: none). Throws PodBindRootsError for an entry that is not an
// absolute path or is "/".
std::vector<std::filesystem::path> PodBindRoots(const char* variable);

// Throws PodBindRootsError naming the first bind mount of `spec` (an OCI
// config.json of a container in CRI pod `sandbox_id`) whose source lies
// outside `roots` and outside the pod's CRI files. /dev/shm binds are not
// read from the host (the guest gets a tmpfs) and are not checked.
void CheckPodBindSources(const nlohmann::json& spec, const std::string& sandbox_id,
                         const std::vector<std::filesystem::path>& roots);

}  // namespace hull::vm_sandbox
