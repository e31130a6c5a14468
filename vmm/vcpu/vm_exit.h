// Why a VM stopped, and the process exit status that says so
// (DESIGN.md: 0 when the guest powers off or reboots, non-zero otherwise).
#pragma once

#include <string>

namespace hull::vmm {

enum class StopReason {
  kReset,          // guest rebooted (i8042 reset, PSCI reset): a clean stop
  kPowerOff,       // guest powered off (PSCI SYSTEM_OFF, ACPI): a clean stop
  kPanic,          // guest kernel panicked
  kTripleFault,    // x86 triple fault (KVM_EXIT_SHUTDOWN)
  kInternalError,  // KVM could not run the guest (emulation failure, failed entry)
  kVmmError,       // hull-vmm itself failed
};

struct VmStop {
  StopReason reason;
  std::string detail;
};

inline int ExitStatus(StopReason reason) {
  switch (reason) {
    case StopReason::kReset:
    case StopReason::kPowerOff:
      return 0;
    case StopReason::kVmmError:
      return 1;
    case StopReason::kPanic:
      return 3;
    case StopReason::kTripleFault:
      return 4;
    case StopReason::kInternalError:
      return 5;
  }
  return 1;
}

inline const char* StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kReset:
      return "guest reset (reboot)";
    case StopReason::kPowerOff:
      return "guest power-off";
    case StopReason::kPanic:
      return "guest kernel panic";
    case StopReason::kTripleFault:
      return "guest triple fault";
    case StopReason::kInternalError:
      return "KVM internal error";
    case StopReason::kVmmError:
      return "VMM error";
  }
  return "unknown";
}

}  // namespace hull::vmm
