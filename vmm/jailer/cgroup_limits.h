// The VMM's own cgroup, <hierarchy>/<exec name>/<id>, with cpu, memory and
// pids limits. cgroup v2 (a unified hierarchy at the cgroup root, the
// controllers enabled down the path) where the host has it; on a v1 host the
// same limits go to the cpu, memory and pids hierarchies' own trees (each
// limit needs its controller mounted there, else a clear error).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "jailer/jail_options.h"

namespace hull::vmm::jailer {

enum class CgroupVersion { kV1, kV2 };

// v2 when <cgroup_root>/cgroup.controllers exists.
CgroupVersion DetectCgroupVersion(const std::filesystem::path& cgroup_root);

struct CgroupWrite {
  std::string controller;  // cpu, memory, pids
  std::string file;        // relative to the VM's cgroup directory
  std::string value;
};

// The files to write for `limits`, in order (pure: unit-tested).
std::vector<CgroupWrite> LimitWrites(CgroupVersion version, const CgroupLimits& limits);

// Creates the cgroup, writes the limits and moves `pid` into it. Throws JailerError.
void JoinLimitedCgroup(const std::filesystem::path& cgroup_root, const std::filesystem::path& relative,
                       const CgroupLimits& limits, pid_t pid);

// SIGKILLs whatever still runs in the VM's cgroup (both versions), waits for
// it to empty and removes it. Returns what it removed, for the report.
std::vector<std::filesystem::path> RemoveCgroup(const std::filesystem::path& cgroup_root,
                                                const std::filesystem::path& relative);

}  // namespace hull::vmm::jailer
