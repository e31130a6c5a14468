// Host bind mounts in a config.json created through the OCI CLI (Podman's
// /etc/hosts, /etc/resolv.conf, /etc/hostname, /run/.containerenv, volumes)
// name host paths that a microVM cannot see. Until hull has a shared
// filesystem, `hull create` copies each bind source into a staging directory
// that becomes a small read-only erofs disk; the guest mounts it at
// kGuestBindsDir and the mounts point there instead. A bind of /dev/shm
// (Podman's per-container shm) becomes a private tmpfs. Writes to such a
// mount fail (EROFS) and later host changes are not seen: a snapshot taken at
// create time, which is what short-lived containers need.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

namespace hull::shim {

inline constexpr const char* kGuestBindsDir = "/run/hull/binds";

// Rewrites `config`'s bind mounts as described above, copying their sources
// into `staging_dir` (created when needed). Returns how many were copied: 0
// means no disk is needed. Throws SandboxError naming a source that is
// missing or is neither a file nor a directory.
int StageHostBinds(nlohmann::json& config, const std::filesystem::path& staging_dir);

}  // namespace hull::shim
