#include "check/ring0_timing.h"

#include <gtest/gtest.h>

#include <vector>

namespace hull::check {
namespace {

TEST(CheckRing0Timing, FastGuestGrowsTheLoopUntilItIsMeasurable) {
  std::vector<unsigned> runs;
  // Hardware-like: 0.5 ns per iteration plus 20 us of VM entry/exit per run.
  const double ns = GuestNsPerIteration([&](unsigned n) {
    runs.push_back(n);
    return 20000.0 + 0.5 * n;
  });
  EXPECT_DOUBLE_EQ(ns, 0.5);
  EXPECT_EQ(runs, (std::vector<unsigned>{1000, 21000, 210000, 2100000, 21000000}));
}

TEST(CheckRing0Timing, EmulatedGuestNeedsOneLongRun) {
  std::vector<unsigned> runs;
  const double ns = GuestNsPerIteration([&](unsigned n) {
    runs.push_back(n);
    return 1200.0 * n;  // kvm_pvm-like: microseconds per iteration
  });
  EXPECT_DOUBLE_EQ(ns, 1200.0);
  EXPECT_EQ(runs.size(), 2u);
}

TEST(CheckRing0Timing, StopsAtTheCapAndNeverGoesNegative) {
  std::vector<unsigned> runs;
  const double ns = GuestNsPerIteration([&](unsigned n) {
    runs.push_back(n);
    return n == 1000 ? 5000.0 : 100.0;  // noise: the long runs look faster than the short one
  });
  EXPECT_EQ(ns, 0.0);
  EXPECT_EQ(runs.back(), 210000000u);
}

TEST(CheckRing0Timing, FailedRunIsReported) {
  EXPECT_EQ(GuestNsPerIteration([](unsigned) { return -1.0; }), -1.0);
  EXPECT_EQ(GuestNsPerIteration([](unsigned n) { return n == 1000 ? 10.0 : -1.0; }), -1.0);
}

TEST(CheckRing0Timing, HostLoopTakesTime) {
  const double ns = HostLoopNsPerIteration(1000000);
  EXPECT_GT(ns, 0.0);
  EXPECT_LT(ns, 1000.0);
}

}  // namespace
}  // namespace hull::check
