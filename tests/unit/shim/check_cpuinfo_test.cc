#include "check/cpuinfo.h"

#include <gtest/gtest.h>

namespace hull::check {
namespace {

TEST(CheckCpuinfo, ReadsTheFirstX86FlagsLine) {
  const auto flags = ParseCpuFlags(
      "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu vme svm  sse2\t lm\n\n"
      "processor\t: 1\nflags\t\t: fpu other\n");
  EXPECT_EQ(flags, (std::set<std::string>{"fpu", "vme", "svm", "sse2", "lm"}));
}

TEST(CheckCpuinfo, ReadsArm64Features) {
  const auto flags = ParseCpuFlags("processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm\n");
  EXPECT_EQ(flags, (std::set<std::string>{"fp", "asimd", "evtstrm"}));
}

TEST(CheckCpuinfo, KeysMustMatchExactly) {
  // "vmx flags" (Intel's VMX feature list) is not the CPU's flags line.
  EXPECT_EQ(ParseCpuFlags("vmx flags\t: vnmi ept\nflags\t: fpu\n"), (std::set<std::string>{"fpu"}));
}

TEST(CheckCpuinfo, NothingWhenThereIsNoFlagsLine) {
  EXPECT_TRUE(ParseCpuFlags("").empty());
  EXPECT_TRUE(ParseCpuFlags("processor : 0\nmodel name : x\nno colon here\n").empty());
  EXPECT_TRUE(ParseCpuFlags("flags\t:\n").empty());
}

}  // namespace
}  // namespace hull::check
