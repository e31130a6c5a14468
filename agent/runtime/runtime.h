// The container engine: containers by id, their processes, their cgroups.
// Thread-safe; every method throws RuntimeError with a kind and a reason.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "runtime/cgroup.h"
#include "runtime/process_io.h"
#include "runtime/reaper.h"

namespace hull::runtime {

struct RuntimeConfig {
  std::string state_dir = "/run/hull-agent";  // per-container mounts for block rootfs
  // cgroup2 mount; empty: find_cgroup2_mount(). No cgroup2 at all is allowed
  // only for containers that ask for no limits.
  std::string cgroup_mount;
};

struct BlockRootfs {
  std::string device, fstype;
  std::vector<std::string> options;
  bool writable_overlay = false;
  uint64_t expected_size_bytes = 0;  // non-zero: wait until the device has this size
};

struct RootfsSource {
  std::string directory;  // empty and no block: config.json's root.path
  std::optional<BlockRootfs> block;
};

struct NetworkCounters {
  std::string name;
  uint64_t rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_dropped = 0;
  uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_dropped = 0;
};

struct ContainerStats {
  CgroupStats cgroup;
  std::vector<NetworkCounters> network;
};

struct ProcessEntry {
  pid_t pid = 0, ppid = 0;
  std::string command;
};

class Container;
struct Proc;

class Runtime {
 public:
  explicit Runtime(RuntimeConfig config);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  pid_t create(const std::string& id, const std::string& config_json, const RootfsSource& rootfs);
  void start(const std::string& id);
  void remove(const std::string& id, bool force);
  void remove_all();
  pid_t exec(const std::string& id, const std::string& exec_id, const std::string& process_json);
  void signal(const std::string& id, const std::string& exec_id, int sig, bool all);
  // Blocks until the process exits, or returns nullopt once `cancelled` says so
  // (checked every 200 ms; a client that hung up must not hold a thread).
  std::optional<ExitStatus> wait(
      const std::string& id, const std::string& exec_id,
      const std::function<bool()>& cancelled = [] { return false; });
  // The stdio of a process; the shared_ptr keeps it alive while a stream runs.
  std::shared_ptr<ProcessIo> io(const std::string& id, const std::string& exec_id);
  void pause(const std::string& id);
  void resume(const std::string& id);
  ContainerStats stats(const std::string& id);
  void update(const std::string& id, const std::string& resources_json);
  std::vector<ProcessEntry> processes(const std::string& id);
  // Container id -> OOM kills so far, for every container with a cgroup.
  std::map<std::string, uint64_t> oom_counters();
  std::vector<std::string> ids();

 private:
  std::shared_ptr<Container> find(const std::string& id);
  std::shared_ptr<Proc> find_process(Container& c, const std::string& exec_id);
  void destroy(Container& c);

  RuntimeConfig config_;
  std::optional<std::string> cgroup_mount_;
  Reaper reaper_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Container>> containers_;
};

// Ids of containers and execs: [A-Za-z0-9][A-Za-z0-9_.-]{0,127}.
bool valid_id(const std::string& id);

}  // namespace hull::runtime
