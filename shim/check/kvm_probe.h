// Asks a KVM device what `hull check` needs to know: API version, capabilities, whether a VM
// (with a vGICv3 on arm64) can be created, and how fast guest ring-0 code runs.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "check/facts.h"

namespace hull::check {

// Fills everything in KvmFacts; never throws: failures become facts.
KvmFacts ProbeKvm(const std::string& path, bool run_ring0_probe);

// The architecture this program was built for.
Arch BuiltArch();

// Per-architecture parts (kvm_probe_<arch>.cc).
struct Capability {
  const char* name;
  int number;
};
std::vector<Capability> RequiredCapabilities();
// Checks what a VM must offer beyond the capabilities (arm64: a vGICv3) and records it in facts.
void ProbeVmFeatures(int vm_fd, KvmFacts& facts);
Ring0Probe RunRing0Probe(int kvm_fd);

}  // namespace hull::check
