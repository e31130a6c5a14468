// Typed subset of the OCI runtime-spec (1.0.2 / 1.1) config.json that hull-agent
// honours. Parsing validates as it goes; see parse.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hull::oci {

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
  // Not in the Linux spec (Windows only there): hull resolves it against the
  // container's /etc/passwd when uid/gid are absent. Empty when unused.
  std::string username;
};

struct Capabilities {
  std::vector<int> bounding, effective, inheritable, permitted, ambient;  // CAP_* numbers
};

struct Rlimit {
  int resource = 0;  // RLIMIT_* number
  uint64_t soft = 0, hard = 0;
};

struct ConsoleSize {
  uint32_t height = 0, width = 0;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::optional<Capabilities> capabilities;  // absent: keep none (empty sets)
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
};

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
};

enum class NamespaceType { pid, network, mount, ipc, uts, user, cgroup };

struct Namespace {
  NamespaceType type;
  std::string path;  // empty: create a new one
};

struct IdMapping {
  uint32_t container_id = 0, host_id = 0, size = 0;
};

struct MemoryResources {
  std::optional<int64_t> limit, reservation, swap;
};
struct CpuResources {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;
  std::optional<uint64_t> period;
  std::string cpus, mems;
};
struct Resources {
  MemoryResources memory;
  CpuResources cpu;
  std::optional<int64_t> pids_limit;
  std::optional<uint16_t> blkio_weight;
  std::map<std::string, std::string> unified;  // cgroup v2 file -> value
};

enum class SeccompAction { kill_thread, kill_process, trap, errno_ret, trace, allow, log, notify };

struct SeccompArg {
  unsigned index = 0;
  uint64_t value = 0, value_two = 0;
  std::string op;  // SCMP_CMP_NE, SCMP_CMP_LT, ...
};

struct SeccompRule {
  std::vector<std::string> names;
  SeccompAction action = SeccompAction::allow;
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  SeccompAction default_action = SeccompAction::allow;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;  // SCMP_ARCH_*
  std::vector<SeccompRule> syscalls;
};

struct Device {
  char type = 'c';  // c, b, u, p
  std::string path;
  int64_t major = 0, minor = 0;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid, gid;
};

struct Hook {
  std::string path;
  std::vector<std::string> args, env;
  std::optional<int> timeout_seconds;
};

struct Hooks {
  std::vector<Hook> create_runtime, create_container, start_container, poststart, poststop;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings, gid_mappings;
  Resources resources;
  std::string cgroups_path;
  std::map<std::string, std::string> sysctl;
  std::vector<std::string> masked_paths, readonly_paths;
  std::optional<Seccomp> seccomp;
  std::vector<Device> devices;
  std::string rootfs_propagation;

  bool has_namespace(NamespaceType t) const {
    for (const auto& ns : namespaces)
      if (ns.type == t) return true;
    return false;
  }
};

struct Spec {
  std::string oci_version;
  Process process;
  std::string root_path;
  bool root_readonly = false;
  std::string hostname;
  std::vector<Mount> mounts;
  Linux linux;
  Hooks hooks;
};

const char* namespace_type_name(NamespaceType t);

}  // namespace hull::oci
