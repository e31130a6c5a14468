// Shared by the per-architecture ring-0 probes: run a vCPU until its expected exit, timed.
#pragma once

#include <linux/kvm.h>

#include <chrono>
#include <functional>
#include <string>

namespace hull::check {

// Runs the vCPU until it exits; returns the elapsed nanoseconds, or -1 with `error` set when
// KVM_RUN fails or the exit is not `expected_exit`.
double TimedRun(int vcpu_fd, const kvm_run* run, unsigned expected_exit, std::string& error);

// Guest nanoseconds per loop iteration: `run_loop(n)` runs the guest loop n times and returns the
// elapsed nanoseconds (or -1 after setting its error). A short run is subtracted from a long one
// to cancel the VM entry/exit cost; the long one grows tenfold until the difference is at least
// 2 ms, so hardware KVM (sub-ns iterations) is measured as well as emulation (microseconds).
// Returns -1 when a run failed.
double GuestNsPerIteration(const std::function<double(unsigned)>& run_loop);

// Nanoseconds per iteration of a two-instruction countdown loop in this process.
double HostLoopNsPerIteration(unsigned iterations);

}  // namespace hull::check
