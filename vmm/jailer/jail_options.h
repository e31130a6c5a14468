// What hull-jailer was asked to do, checked before anything is created.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace hull::vmm::jailer {

struct CgroupLimits {
  std::optional<double> cpus;          // CPU bandwidth in CPUs (1.5 = 150 ms per 100 ms)
  std::optional<uint64_t> memory_max;  // bytes
  std::optional<uint64_t> pids_max;
  bool any() const { return cpus || memory_max || pids_max; }
};

struct JailOptions {
  std::string id;                          // names the jail directory and the cgroup
  std::filesystem::path exec_file;         // hull-vmm
  std::vector<std::string> exec_args;      // after `--`
  uid_t uid = 0;
  gid_t gid = 0;
  bool uid_given = false;
  bool gid_given = false;
  bool allow_root = false;                 // a uid or gid of 0 is refused unless this is set
  std::filesystem::path chroot_base = "/run/hull/jail";
  std::filesystem::path netns;             // empty: stay in ours
  std::vector<std::filesystem::path> files;        // bind-mounted read-only at the same path
  std::vector<std::filesystem::path> socket_dirs;  // created inside, owned by uid:gid, 0700
  std::vector<std::string> taps;           // persistent taps handed to uid:gid (TUNSETOWNER)
  // Directories served to the guest over virtio-fs: bind-mounted read-write
  // at the same path as slaves of the host's mount, so what the host mounts
  // below them later (a container's rootfs) reaches the VMM. With any, the
  // VMM also gets its own /proc/self/fd (the passthrough reopens files there)
  // and the file capabilities a passthrough needs (kShareCapabilities).
  std::vector<std::filesystem::path> share_dirs;
  CgroupLimits limits;
  std::optional<uint64_t> nofile;          // RLIMIT_NOFILE
  bool die_with_parent = false;
  std::filesystem::path cgroup_root = "/sys/fs/cgroup";
};

// A jail id: 1 to 64 of [A-Za-z0-9_.-], not starting with '.' or '-', so it
// is one path component that cannot climb out of the chroot base.
void ValidateId(const std::string& id);

// A path the jail mirrors: absolute, lexically normal, no "." or ".."
// components (so "/run/../etc" cannot place a file outside the jail).
void ValidateMirroredPath(const std::filesystem::path& path, const char* what);

// Checks everything that can be checked without privileges: id, uid/gid,
// absolute paths, files that exist, limits in range. Throws JailerError.
void ValidateForStart(const JailOptions& options);

}  // namespace hull::vmm::jailer
