#include "jailer/cgroup_limits.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <set>
#include <thread>

#include "jailer/jailer_error.h"

namespace hull::vmm::jailer {
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kCpuPeriodUs = 100000;

void WriteFile(const fs::path& path, const std::string& value) {
  std::ofstream out(path);
  out << value;
  out.flush();
  if (!out) {
    throw JailerError("cannot write '" + value + "' to " + path.string() +
                      " (is that controller available and enabled on this host's cgroup hierarchy?)");
  }
}

void MakeDir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    throw JailerError::FromErrno("cannot create the cgroup " + dir.string(), errno);
  }
}

std::vector<fs::path> V1Dirs(const fs::path& root, const fs::path& relative) {
  std::vector<fs::path> dirs;
  for (const char* c : {"cpu", "memory", "pids"}) dirs.push_back(root / c / relative);
  return dirs;
}

}  // namespace

CgroupVersion DetectCgroupVersion(const fs::path& cgroup_root) {
  std::error_code ec;
  return fs::exists(cgroup_root / "cgroup.controllers", ec) ? CgroupVersion::kV2 : CgroupVersion::kV1;
}

std::vector<CgroupWrite> LimitWrites(CgroupVersion version, const CgroupLimits& limits) {
  std::vector<CgroupWrite> writes;
  if (limits.cpus) {
    const auto quota = static_cast<uint64_t>(std::llround(*limits.cpus * kCpuPeriodUs));
    if (version == CgroupVersion::kV2) {
      writes.push_back({"cpu", "cpu.max", std::to_string(quota) + " " + std::to_string(kCpuPeriodUs)});
    } else {
      writes.push_back({"cpu", "cpu.cfs_period_us", std::to_string(kCpuPeriodUs)});
      writes.push_back({"cpu", "cpu.cfs_quota_us", std::to_string(quota)});
    }
  }
  if (limits.memory_max) {
    writes.push_back({"memory", version == CgroupVersion::kV2 ? "memory.max" : "memory.limit_in_bytes",
                      std::to_string(*limits.memory_max)});
  }
  if (limits.pids_max) writes.push_back({"pids", "pids.max", std::to_string(*limits.pids_max)});
  return writes;
}

void JoinLimitedCgroup(const fs::path& root, const fs::path& relative, const CgroupLimits& limits, pid_t pid) {
  const CgroupVersion version = DetectCgroupVersion(root);
  const auto writes = LimitWrites(version, limits);
  std::set<std::string> controllers;
  for (const auto& w : writes) controllers.insert(w.controller);
  if (version == CgroupVersion::kV2) {
    std::string enable;
    for (const auto& c : controllers) enable += (enable.empty() ? "+" : " +") + c;
    // Enable the controllers on every level above the VM's cgroup (only
    // the root and our own parent: neither holds processes of ours).
    fs::path dir = root;
    for (const auto& part : relative) {
      if (!enable.empty()) WriteFile(dir / "cgroup.subtree_control", enable);
      dir /= part;
      MakeDir(dir);
    }
    for (const auto& w : writes) WriteFile(dir / w.file, w.value);
    WriteFile(dir / "cgroup.procs", std::to_string(pid));
    return;
  }
  for (const auto& c : controllers) {
    std::error_code ec;
    if (!fs::is_directory(root / c, ec)) {
      throw JailerError("this cgroup v1 host has no " + c + " hierarchy at " + (root / c).string() +
                        ": mount it, or drop that limit");
    }
    fs::path dir = root / c;
    for (const auto& part : relative) MakeDir(dir /= part);
  }
  for (const auto& w : writes) WriteFile(root / w.controller / relative / w.file, w.value);
  for (const auto& c : controllers) WriteFile(root / c / relative / "cgroup.procs", std::to_string(pid));
}

std::vector<fs::path> RemoveCgroup(const fs::path& root, const fs::path& relative) {
  std::vector<fs::path> dirs = DetectCgroupVersion(root) == CgroupVersion::kV2
                                   ? std::vector<fs::path>{root / relative}
                                   : V1Dirs(root, relative);
  std::vector<fs::path> removed;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (::rmdir(dir.c_str()) != 0) {
      if (errno != EBUSY) throw JailerError::FromErrno("cannot remove the cgroup " + dir.string(), errno);
      // Still populated: a VMM that outlived its shim. Kill what is left.
      std::ifstream procs(dir / "cgroup.procs");
      for (pid_t pid; procs >> pid;) ::kill(pid, SIGKILL);
      if (std::chrono::steady_clock::now() > deadline) {
        throw JailerError("the cgroup " + dir.string() + " still has processes after SIGKILL; try again");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    removed.push_back(dir);
  }
  return removed;
}

}  // namespace hull::vmm::jailer
