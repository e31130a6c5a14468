// DescribeVmmExit: the reason the shim logs when a sandbox loses its microVM.
#include <gtest/gtest.h>

#include "sandbox/vmm_process.h"

namespace hull::shim {
namespace {

TEST(DescribeVmmExit, NamesTheSignalThatKilledTheVmm) {
  EXPECT_EQ(DescribeVmmExit(128 + 9, ""), "hull-vmm was killed by signal 9");
}

TEST(DescribeVmmExit, QuotesTheGuestKernelPanicOverLaterLines) {
  const std::string log =
      "[    1.0] hull-agent: serving\n"
      "[    9.1] Kernel panic - not syncing: Out of memory: compulsory panic_on_oom is enabled\r\n"
      "[    9.2] Rebooting in 1 seconds..\n"
      "hull-vmm: guest reset (i8042): stopping\n";
  EXPECT_EQ(DescribeVmmExit(0, log),
            "hull-vmm exited with status 0 (the guest rebooted, powered off or panicked); "
            "[    9.1] Kernel panic - not syncing: Out of memory: compulsory panic_on_oom is enabled");
}

TEST(DescribeVmmExit, QuotesTheLastLineWithoutAPanic) {
  EXPECT_EQ(DescribeVmmExit(1, "booting\nhull-vmm: vcpu 0: KVM_EXIT_INTERNAL_ERROR\n\n"),
            "hull-vmm exited with status 1; last log line: hull-vmm: vcpu 0: KVM_EXIT_INTERNAL_ERROR");
}

TEST(DescribeVmmExit, SaysWhenTheVmmStillRuns) {
  EXPECT_EQ(DescribeVmmExit(std::nullopt, ""), "hull-vmm still runs: the guest agent stopped answering");
  EXPECT_EQ(DescribeVmmExit(-1, ""), "hull-vmm is gone (no exit status: it was reaped elsewhere)");
}

TEST(DescribeVmmExit, KeepsGuestBytesPrintableAndShort) {
  const std::string log = "Kernel panic \x1b[31m\xff" + std::string(1000, 'x') + "\n";
  const std::string described = DescribeVmmExit(0, log);
  const std::string quoted = described.substr(described.find("; ") + 2);
  EXPECT_EQ(quoted.size(), 300u);
  EXPECT_EQ(quoted.substr(0, 18), "Kernel panic ?[31m");
  for (char c : quoted) EXPECT_TRUE(c >= 0x20 && c <= 0x7e);
}

}  // namespace
}  // namespace hull::shim
