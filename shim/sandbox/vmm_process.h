// A running hull-vmm process serving its API socket. RAII: the destructor
// kills and reaps the process and removes the socket, so an error anywhere in
// sandbox set-up leaves no VMM behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace hull::shim {

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

 private:
  VmmProcessOptions options_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

}  // namespace hull::shim
