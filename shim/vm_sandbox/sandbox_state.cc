#include "vm_sandbox/sandbox_state.h"

#include <signal.h>
#include <sys/mount.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "vm_sandbox/mount_table.h"

namespace hull::vm_sandbox {
namespace fs = std::filesystem;

fs::path SandboxStateDir(const std::string& containerd_namespace, const std::string& id) {
  // libstdc++'s std::hash of a string is a fixed function of its bytes, so
  // `delete` (another process) finds the same directory.
  return fs::path("/run/hull/shim") /
         std::to_string(std::hash<std::string>{}(containerd_namespace + "/" + id));
}

void RecordVmmPid(const fs::path& state_dir, pid_t pid) {
  std::ofstream(state_dir / "vmm.pid") << pid << "\n";
}

namespace {

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

std::string CleanUpSandboxState(const fs::path& state_dir, const fs::path& rootfs_mountpoint) {
  std::ostringstream report;
  std::error_code ec;
  pid_t pid = 0;
  std::ifstream(state_dir / "vmm.pid") >> pid;
  if (pid > 1) {
    const fs::path proc = fs::path("/proc") / std::to_string(pid);
    const std::string comm = ReadAll(proc / "comm");
    // The pid may have been reused: kill only a hull-vmm whose command line names our socket.
    if (comm == "hull-vmm\n" && ReadAll(proc / "cmdline").find(state_dir.string()) != std::string::npos) {
      ::kill(pid, SIGKILL);
      for (int i = 0; i < 200 && fs::exists(proc, ec); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      report << "killed hull-vmm " << pid << "; ";
    }
  }
  if (!rootfs_mountpoint.empty() && ::umount2(rootfs_mountpoint.c_str(), MNT_DETACH) == 0) {
    report << "unmounted " << rootfs_mountpoint.string() << "; ";
  }
  // Never remove through a mount (a virtio-fs share's container rootfs or
  // volume): detach what is mounted below first, keep the directory if that fails.
  if (const auto left = DetachMountsBelow(state_dir); !left.empty()) {
    report << left.front().string() << " is still mounted: " << state_dir.string() << " kept";
    return report.str();
  }
  if (fs::exists(state_dir, ec)) {
    fs::remove_all(state_dir, ec);
    report << "removed " << state_dir.string();
  }
  return report.str();
}

}  // namespace hull::vm_sandbox
