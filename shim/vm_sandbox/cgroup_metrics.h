// containerd's view of a task's resource use: the agent's cgroup v2 counters
// turned into io.containerd.cgroups.v2.Metrics, the message runc's shim puts
// in a Task Stats reply for a cgroup-v2 host, so `ctr task metrics` and the
// CRI plugin decode hull's stats exactly as runc's.
#pragma once

#include <google/protobuf/any.pb.h>

#include "github.com/containerd/cgroups/v2/stats/metrics.pb.h"
#include "hull/agent/v1/agent.pb.h"

namespace hull::vm_sandbox {

namespace cgroupsv2 = ::io::containerd::cgroups::v2;

// The type URL containerd's typeurl package gives the Metrics message (the
// bare proto name, no "type.googleapis.com/" prefix); ctr looks it up by it.
inline constexpr char kCgroupsV2MetricsTypeUrl[] = "io.containerd.cgroups.v2.Metrics";

// Fills every Metrics field the agent measures. Limits the agent reports as
// 0 ("max" in the cgroup file) become UINT64_MAX, as containerd's cgroups
// package reads "max". The agent does not report rdma or hugetlb; those stay
// empty.
cgroupsv2::Metrics ToCgroupsV2Metrics(const ::hull::agent::v1::StatsContainerResponse& stats);

// The Any a Task Stats reply carries.
google::protobuf::Any PackCgroupsV2Metrics(const cgroupsv2::Metrics& metrics);

}  // namespace hull::vm_sandbox
