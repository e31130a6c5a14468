// One container's cgroup v2 directory: creation with the controllers its
// limits need, limits from OCI resources, freezer, kill, stats, removal.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "oci/spec.h"

namespace hull::runtime {

// Where cgroup2 is mounted: /sys/fs/cgroup when it is cgroup2, else the first
// cgroup2 mount in /proc/self/mountinfo (e.g. /sys/fs/cgroup/unified on a
// hybrid host). nullopt when there is none.
std::optional<std::string> find_cgroup2_mount();

// OCI (cgroup v1 flavoured) values to cgroup v2 files, as runc and crun convert them.
uint64_t cpu_shares_to_weight(uint64_t shares);
uint64_t blkio_weight_to_io_weight(uint16_t weight);
// file -> value pairs to write for `r`; memory.swap.max is swap minus limit.
std::vector<std::pair<std::string, std::string>> resource_files(const oci::Resources& r);

struct CgroupStats {
  std::map<std::string, uint64_t> cpu;  // cpu.stat
  uint64_t memory_current = 0, memory_max = 0, swap_current = 0, oom_kills = 0;
  uint64_t swap_max = 0;  // memory.swap.max (swap alone, not memory+swap); 0 = max or absent
  struct MemoryEvents {   // memory.events counters
    uint64_t low = 0, high = 0, max = 0, oom = 0, oom_kill = 0;
  };
  MemoryEvents memory_events;
  std::map<std::string, uint64_t> memory;  // memory.stat
  uint64_t pids_current = 0, pids_max = 0;
  struct Io {
    uint32_t major = 0, minor = 0;
    uint64_t rbytes = 0, wbytes = 0, rios = 0, wios = 0;
  };
  std::vector<Io> io;
};

class Cgroup {
 public:
  // Creates <mount>/<path> (path absolute inside the hierarchy) and enables, in
  // every ancestor, the controllers that exist.
  Cgroup(const std::string& mount, const std::string& path);
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;

  const std::string& dir() const { return dir_; }
  // Writes the limits; an unavailable controller is an error naming it.
  void apply(const oci::Resources& r);
  void freeze(bool frozen);
  // SIGKILL to every process in it (cgroup.kill where the kernel has it).
  void kill_all();
  std::vector<pid_t> pids() const;
  CgroupStats stats() const;
  uint64_t oom_kills() const;
  // rmdir, retrying while the last processes finish exiting. False if it stayed busy.
  bool remove();

 private:
  std::string mount_;
  std::string dir_;
};

}  // namespace hull::runtime
