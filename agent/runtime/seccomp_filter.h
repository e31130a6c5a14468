// Compiles an OCI seccomp profile to a classic BPF program with libseccomp, in
// the agent, so the container process only has to load it (one prctl, no
// allocation, no library state after fork).
#pragma once

#include <linux/filter.h>

#include <vector>

#include "oci/spec.h"

namespace hull::runtime {

struct SeccompProgram {
  std::vector<sock_filter> instructions;
  // Installs the filter on the calling thread; returns errno or 0.
  int load() const;
};

// Throws RuntimeError(invalid_argument) naming the bad architecture or rule.
SeccompProgram compile_seccomp(const oci::Seccomp& profile);

}  // namespace hull::runtime
