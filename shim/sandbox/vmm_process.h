// A running hull-vmm process serving its API socket. RAII: the destructor
// kills and reaps the process and removes the socket, so an error anywhere in
// sandbox set-up leaves no VMM behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sandbox/runtime_paths.h"

namespace hull::shim {

// hull-vmm confined by hull-jailer (docs/security.md, "The jailer"). The
// VMM sees the same absolute paths as the shim: kernel and initrd are
// bind-mounted read-only at their paths, the API socket's directory is
// recreated inside the jail (owned by the VMM's uid) and the shim's socket
// paths become symlinks into it; drive images are linked in on demand
// (ExposeFile) before an API call names them.
struct VmmJail {
  std::filesystem::path jailer_binary;
  std::string id;                                // JailIdFor(state dir)
  uid_t uid = 0;
  gid_t gid = 0;
  std::filesystem::path chroot_base;
  std::vector<std::filesystem::path> files;      // bind-mounted read-only
  std::vector<std::string> taps;                 // handed to uid:gid in the netns
  // virtio-fs shares (shared mount points), bound read-write at their path
  // as slaves; the VMM then keeps the file capabilities a passthrough needs.
  std::vector<std::filesystem::path> share_dirs;
  uint64_t memory_max = 0;                       // bytes; 0: no limit
  uint64_t pids_max = 0;                         // 0: no limit
  // <chroot_base>/hull-vmm/<id>/root, the VMM's "/" (chroot_base is
  // <state dir>/jail unless configured).
  std::filesystem::path Root() const;
};

// A jail id for a sandbox's state directory: "vm-" + 16 hex digits of its
// FNV-1a hash (stable, so a later `delete` finds the jail of a crashed shim).
std::string JailIdFor(const std::filesystem::path& state_dir);
// The VMM's uid (= gid): one per VM, 0x70000000 + hash % 2^24 (a range
// systemd leaves unused, above every subuid/container range it hands out),
// so VMMs cannot signal or ptrace each other; or the configured fixed one.
uid_t JailUidFor(const std::filesystem::path& state_dir, const VmmConfinement& confinement);
// The jail for a VMM whose API socket lives in `state_dir`, or nullopt when
// the confinement says to run it directly.
std::optional<VmmJail> JailFor(const RuntimePaths& runtime, const std::filesystem::path& state_dir,
                               const std::vector<std::string>& taps, unsigned mem_mib);
// hull-vmm flags the confinement asks for (--seccomp).
std::vector<std::string> ConfinementArgs(const VmmConfinement& confinement);
// `hull-jailer --cleanup` for that jail: kills what still runs in its cgroup,
// removes cgroup and jail. Returns an error message, empty on success.
std::string CleanUpVmmJail(const std::filesystem::path& jailer_binary, const std::filesystem::path& chroot_base,
                           const std::string& id);
// After a crash (a SIGKILLed shim or keeper): CleanUpVmmJail for the jail the
// VMM of `state_dir` would have had under this host's confinement, which also
// stops that VMM (it runs in the jail's cgroup). Never throws: with no jailer
// configured or usable there is no jail to remove either.
void CleanUpLeftoverVmmJail(const std::filesystem::path& state_dir);

// Why a VMM is gone, for the shim's log when a sandbox loses its VM:
// `exit_status` as VmmProcess::WaitForExit gives it (128+N: killed by signal
// N; nullopt: still running, so the guest agent stopped answering), plus the
// guest console's kernel panic line or else the last line of `log_tail`.
std::string DescribeVmmExit(std::optional<int> exit_status, const std::string& log_tail);

struct VmmProcessOptions {
  std::filesystem::path vmm_binary;  // hull-vmm
  std::filesystem::path api_socket;
  std::filesystem::path log_file;    // the VMM's stdout/stderr (guest console included)
  std::vector<std::string> extra_args;
  bool die_with_parent = true;       // PR_SET_PDEATHSIG: for foreground `hull run`
  // A network namespace (path) to start the VMM in: a tap opens (TUNSETIFF)
  // in its opener's namespace, and the pod's taps live in the pod's.
  std::string netns;
  std::chrono::milliseconds ready_timeout = std::chrono::seconds(10);
  std::optional<VmmJail> jail;       // nullopt: exec hull-vmm directly
  std::string log_note;              // written to the log before the VMM starts (why unconfined)
};

class VmmProcess {
 public:
  // Spawns hull-vmm and waits until its API socket accepts connections.
  // Throws SandboxError (binary missing, exited early: its log's tail quoted).
  explicit VmmProcess(VmmProcessOptions options);
  ~VmmProcess();
  VmmProcess(const VmmProcess&) = delete;
  VmmProcess& operator=(const VmmProcess&) = delete;

  pid_t pid() const { return pid_; }
  const VmmProcessOptions& options() const { return options_; }

  // Waits up to `timeout` for the VMM to exit; its exit status (128+signal if
  // killed), or nullopt if it is still running.
  std::optional<int> WaitForExit(std::chrono::milliseconds timeout);
  // SIGKILL + reap (idempotent).
  void Kill();
  // The last `max_bytes` of the VMM's log, for error messages.
  std::string LogTail(size_t max_bytes = 2000) const;

  // Makes `path` readable by a jailed VMM at the same path (a hard link in
  // the jail, or a copy owned by the VMM's uid when the file is on another
  // file system or not world-readable); replaces an older link of the same
  // name. No-op without a jail. Throws SandboxError.
  void ExposeFile(const std::filesystem::path& path);
  // Clears `path` for a socket the VMM will create there; with a jail, the
  // path becomes a symlink to where the VMM's socket appears inside it
  // (`path` must lie in the API socket's directory).
  void PrepareSocketPath(const std::filesystem::path& path);

 private:
  void Spawn(const std::vector<std::string>& args, int log_fd, int netns_fd);
  void RemoveJail();

  VmmProcessOptions options_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  std::set<std::filesystem::path> socket_links_;
};

}  // namespace hull::shim
