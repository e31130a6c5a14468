// The guest's boot timeline, for measuring start-up (docs/benchmarks.md):
// with `hull_boot_timeline=1` on the kernel command line (the kernel hands it
// to /init as an environment variable) the agent prints, once it serves, the
// kernel log records that mark the boot's phases and the slow initcalls
// (`initcall_debug`), stamped with the kernel's clock. Off by default: under
// nested virtualization every console byte costs about a millisecond.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace hull::agent {

// Initcalls that took at least this long are listed.
inline constexpr long kSlowInitcallMicros = 5000;

// One /dev/kmsg record ("PRIO,SEQ,MICROS,FLAGS;TEXT") as a timeline line
// ("[  1234.567 ms] TEXT"), or nothing when the record marks no phase.
std::optional<std::string> boot_timeline_entry(std::string_view kmsg_record);

// Prints the timeline entries of every record still in the kernel log to `out`.
void print_boot_timeline(std::FILE* out);

}  // namespace hull::agent
