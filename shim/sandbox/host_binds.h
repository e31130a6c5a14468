// Host bind mounts in a config.json created through the OCI CLI (Podman's
// /etc/hosts, /etc/resolv.conf, /etc/hostname, /run/.containerenv, volumes)
// name host paths that a microVM cannot see. Until hull has a shared
// filesystem, `hull create` copies each bind source into a staging directory
// that becomes a small read-only erofs disk; the guest mounts it at
// kGuestBindsDir and the mounts point there instead. A bind of /dev/shm
// (Podman's per-container shm) becomes a private tmpfs. Writes to such a
// mount fail (EROFS) and later host changes are not seen: a snapshot taken at
// create time, which is what short-lived containers need.
//
// The containerd shim (shim/vm_sandbox) has no extra disk per container:
// there the snapshots of bind sources go into the container's rootfs image
// at their destination (TakeBindsIntoImage), and the CRI helpers below adapt
// a Kubernetes pod's specs (containerd's CRI plugin) for the guest.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace hull::shim {

// An OCI mount that binds a host path: type "bind", or a bind/rbind option.
bool IsBindMount(const nlohmann::json& mount);

inline constexpr const char* kGuestBindsDir = "/run/hull/binds";

// Rewrites `config`'s bind mounts as described above, copying their sources
// into `staging_dir` (created when needed). Returns how many were copied: 0
// means no disk is needed. Throws SandboxError naming a source that is
// missing or is neither a file nor a directory.
int StageHostBinds(nlohmann::json& config, const std::filesystem::path& staging_dir);

// A host file or directory that a bind mount showed at `destination`; the
// shim copies it into the rootfs image instead (a snapshot taken at create,
// writable through the container's overlay; later host changes are not seen).
struct ImageFile {
  std::filesystem::path source;
  std::filesystem::path destination;  // absolute, normalised, not "/"
};

// Removes `config`'s bind mounts and returns what they showed; a bind of
// /dev/shm (CRI's pod shm) becomes a private tmpfs instead. Throws
// SandboxError for a destination that is relative, "/" or has "..", or a
// source that is missing or neither a file nor a directory.
std::vector<ImageFile> TakeBindsIntoImage(nlohmann::json& config);

// Copies `files` under `staging_dir` at their destinations (symlinks inside
// directories are copied as links, never followed). Throws SandboxError when
// one cannot be copied or they add up to more than `max_bytes`.
void StageImageFiles(const std::vector<ImageFile>& files, const std::filesystem::path& staging_dir,
                     uint64_t max_bytes = uint64_t{16} << 20);

// --- Kubernetes pods through containerd's CRI plugin ---
inline constexpr char kCriContainerTypeAnnotation[] = "io.kubernetes.cri.container-type";
inline constexpr char kCriSandboxIdAnnotation[] = "io.kubernetes.cri.sandbox-id";

// What a spec is to the CRI: the pod's sandbox ("pause") container, one of
// the pod's containers, or neither (ctr, or annotations of another kind).
enum class CriRole { kNone, kSandbox, kContainer };
struct CriIdentity {
  CriRole role = CriRole::kNone;
  std::string sandbox_id;  // the annotation's; empty for kNone
};
CriIdentity CriIdentityOf(const nlohmann::json& config);

// A pod's container joins the sandbox container's namespaces by host path
// (/proc/<host pid>/ns/ipc...), which means nothing in the guest: points
// each such path except the network's (the guest's own namespace holds the
// pod's NICs) at the sandbox container's process in the guest instead.
// Returns how many paths it rewrote.
int JoinSandboxNamespaces(nlohmann::json& config, uint32_t sandbox_guest_pid);

// Whether the spec gives the container a pid namespace of its own (a "pid"
// namespace without a path). One that shares another's (a CRI pod with
// shareProcessNamespace, or CRI's default pod mode) does not die with its
// init: as runc does, the shim then kills what is left in its cgroup.
bool HasOwnPidNamespace(const nlohmann::json& config);

}  // namespace hull::shim
