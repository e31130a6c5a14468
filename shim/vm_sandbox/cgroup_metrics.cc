#include "vm_sandbox/cgroup_metrics.h"

#include <cstdint>
#include <limits>
#include <string>

namespace hull::vm_sandbox {

namespace {

using StatMap = google::protobuf::Map<std::string, uint64_t>;

uint64_t Stat(const StatMap& stat, const std::string& key) {
  auto it = stat.find(key);
  return it == stat.end() ? 0 : it->second;
}

uint64_t LimitOrMax(uint64_t limit) {
  return limit == 0 ? std::numeric_limits<uint64_t>::max() : limit;
}

void FillMemoryStat(const StatMap& s, cgroupsv2::MemoryStat& m) {
  m.set_anon(Stat(s, "anon"));
  m.set_file(Stat(s, "file"));
  m.set_kernel_stack(Stat(s, "kernel_stack"));
  m.set_slab(Stat(s, "slab"));
  m.set_sock(Stat(s, "sock"));
  m.set_shmem(Stat(s, "shmem"));
  m.set_file_mapped(Stat(s, "file_mapped"));
  m.set_file_dirty(Stat(s, "file_dirty"));
  m.set_file_writeback(Stat(s, "file_writeback"));
  m.set_anon_thp(Stat(s, "anon_thp"));
  m.set_inactive_anon(Stat(s, "inactive_anon"));
  m.set_active_anon(Stat(s, "active_anon"));
  m.set_inactive_file(Stat(s, "inactive_file"));
  m.set_active_file(Stat(s, "active_file"));
  m.set_unevictable(Stat(s, "unevictable"));
  m.set_slab_reclaimable(Stat(s, "slab_reclaimable"));
  m.set_slab_unreclaimable(Stat(s, "slab_unreclaimable"));
  m.set_pgfault(Stat(s, "pgfault"));
  m.set_pgmajfault(Stat(s, "pgmajfault"));
  // Linux 5.9 split the workingset counters into _anon and _file; older
  // kernels (and containerd's field) have the sum.
  auto workingset = [&](const std::string& name) {
    return s.contains(name) ? Stat(s, name) : Stat(s, name + "_anon") + Stat(s, name + "_file");
  };
  m.set_workingset_refault(workingset("workingset_refault"));
  m.set_workingset_activate(workingset("workingset_activate"));
  m.set_workingset_nodereclaim(Stat(s, "workingset_nodereclaim"));
  m.set_pgrefill(Stat(s, "pgrefill"));
  m.set_pgscan(Stat(s, "pgscan"));
  m.set_pgsteal(Stat(s, "pgsteal"));
  m.set_pgactivate(Stat(s, "pgactivate"));
  m.set_pgdeactivate(Stat(s, "pgdeactivate"));
  m.set_pglazyfree(Stat(s, "pglazyfree"));
  m.set_pglazyfreed(Stat(s, "pglazyfreed"));
  m.set_thp_fault_alloc(Stat(s, "thp_fault_alloc"));
  m.set_thp_collapse_alloc(Stat(s, "thp_collapse_alloc"));
}

}  // namespace

cgroupsv2::Metrics ToCgroupsV2Metrics(const ::hull::agent::v1::StatsContainerResponse& stats) {
  cgroupsv2::Metrics metrics;
  auto* pids = metrics.mutable_pids();
  pids->set_current(stats.pids().current());
  pids->set_limit(LimitOrMax(stats.pids().limit()));

  auto* cpu = metrics.mutable_cpu();
  cpu->set_usage_usec(stats.cpu().usage_usec());
  cpu->set_user_usec(stats.cpu().user_usec());
  cpu->set_system_usec(stats.cpu().system_usec());
  cpu->set_nr_periods(stats.cpu().nr_periods());
  cpu->set_nr_throttled(stats.cpu().nr_throttled());
  cpu->set_throttled_usec(stats.cpu().throttled_usec());

  auto* memory = metrics.mutable_memory();
  FillMemoryStat(stats.memory().stat(), *memory);
  memory->set_usage(stats.memory().usage_bytes());
  memory->set_usage_limit(LimitOrMax(stats.memory().limit_bytes()));
  memory->set_swap_usage(stats.memory().swap_usage_bytes());
  memory->set_swap_limit(LimitOrMax(stats.memory().swap_limit_bytes()));

  // An agent older than the events message sends only oom_kills.
  const auto& events = stats.memory().events();
  auto* memory_events = metrics.mutable_memory_events();
  memory_events->set_low(events.low());
  memory_events->set_high(events.high());
  memory_events->set_max(events.max());
  memory_events->set_oom(events.oom());
  memory_events->set_oom_kill(stats.memory().has_events() ? events.oom_kill()
                                                           : stats.memory().oom_kills());

  for (const auto& device : stats.io()) {
    auto* entry = metrics.mutable_io()->add_usage();
    entry->set_major(device.major());
    entry->set_minor(device.minor());
    entry->set_rbytes(device.read_bytes());
    entry->set_wbytes(device.write_bytes());
    entry->set_rios(device.read_ios());
    entry->set_wios(device.write_ios());
  }
  return metrics;
}

google::protobuf::Any PackCgroupsV2Metrics(const cgroupsv2::Metrics& metrics) {
  google::protobuf::Any any;
  any.set_type_url(kCgroupsV2MetricsTypeUrl);
  any.set_value(metrics.SerializeAsString());
  return any;
}

}  // namespace hull::vm_sandbox
