// Shared by the per-architecture ring-0 probes: run a vCPU until its expected exit, timed.
#pragma once

#include <linux/kvm.h>

#include <chrono>
#include <string>

namespace hull::check {

// Runs the vCPU until it exits; returns the elapsed nanoseconds, or -1 with `error` set when
// KVM_RUN fails or the exit is not `expected_exit`.
double TimedRun(int vcpu_fd, const kvm_run* run, unsigned expected_exit, std::string& error);

// Nanoseconds per iteration of a two-instruction countdown loop in this process.
double HostLoopNsPerIteration(unsigned iterations);

}  // namespace hull::check
