#include "check/ring0_timing.h"

#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace hull::check {
namespace {

std::string ExitName(const kvm_run* run) {
  switch (run->exit_reason) {
    case KVM_EXIT_INTERNAL_ERROR:
      return "KVM_EXIT_INTERNAL_ERROR (suberror " + std::to_string(run->internal.suberror) +
             ": KVM's instruction emulator gave up)";
    case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
    case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN (triple fault)";
    case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
    case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
    case KVM_EXIT_IO: return "KVM_EXIT_IO";
    default: return "exit reason " + std::to_string(run->exit_reason);
  }
}

}  // namespace

double TimedRun(int vcpu_fd, const kvm_run* run, unsigned expected_exit, std::string& error) {
  const auto start = std::chrono::steady_clock::now();
  int rc;
  do {
    rc = ::ioctl(vcpu_fd, KVM_RUN, 0);
  } while (rc < 0 && errno == EINTR);
  const auto end = std::chrono::steady_clock::now();
  if (rc < 0) {
    error = std::string("KVM_RUN: ") + std::strerror(errno);
    return -1;
  }
  if (run->exit_reason != expected_exit) {
    error = "unexpected " + ExitName(run);
    return -1;
  }
  return std::chrono::duration<double, std::nano>(end - start).count();
}

double GuestNsPerIteration(const std::function<double(unsigned)>& run_loop) {
  constexpr unsigned kShort = 1000;
  constexpr double kMinSpanNs = 2e6;
  const double short_ns = run_loop(kShort);
  if (short_ns < 0) return -1;
  for (unsigned n = 21000;; n *= 10) {
    const double long_ns = run_loop(n);
    if (long_ns < 0) return -1;
    if (long_ns - short_ns >= kMinSpanNs || n >= 200000000) {
      return std::max(0.0, (long_ns - short_ns) / (n - kShort));
    }
  }
}

double HostLoopNsPerIteration(unsigned iterations) {
  unsigned n = iterations;
  const auto start = std::chrono::steady_clock::now();
#if defined(__x86_64__)
  asm volatile("1: dec %0\n\tjnz 1b" : "+r"(n) : : "cc");
#elif defined(__aarch64__)
  asm volatile("1: subs %w0, %w0, #1\n\tb.ne 1b" : "+r"(n) : : "cc");
#else
#error "hull check supports x86_64 and aarch64"
#endif
  const auto end = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::nano>(end - start).count() / iterations;
}

}  // namespace hull::check
