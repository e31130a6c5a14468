// Collects the Facts of this host (the only part of hull check that touches the system).
#pragma once

#include <string>

#include "check/facts.h"

namespace hull::check {

struct GatherOptions {
  std::string kvm_path = "/dev/kvm";
  std::string cpuinfo_path = "/proc/cpuinfo";
  std::string sys_module_dir = "/sys/module";
  std::string tun_path = "/dev/net/tun";
  bool run_ring0_probe = true;
};

Facts Gather(const GatherOptions& options);

}  // namespace hull::check
