// The verdict of `hull check`: turns gathered facts into one result per check, each failure
// with what to do about it. Pure logic, unit-tested with injected facts.
#pragma once

#include <string>
#include <vector>

#include "check/facts.h"

namespace hull::check {

enum class Status { kOk, kFail, kSkipped };

const char* StatusName(Status status);

struct CheckResult {
  std::string id;       // stable, for --json: "kvm.device", "kvm.hardware", "tap", ...
  bool required;        // required for microVMs (decides the exit status)
  Status status;
  std::string detail;   // what was found
  std::string fix;      // what to do (failures only)
};

struct Report {
  Arch arch;
  bool kvm_usable;
  std::vector<CheckResult> checks;
};

// Guest ring-0 iterations slower than this many host iterations mean emulation
// (hardware KVM measures about 1x, kvm_pvm thousands of times).
inline constexpr double kEmulationRatio = 20.0;

Report Evaluate(const Facts& facts);

}  // namespace hull::check
