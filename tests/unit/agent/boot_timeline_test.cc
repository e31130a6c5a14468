#include "boot_timeline.h"

#include <gtest/gtest.h>

namespace hull::agent {
namespace {

TEST(BootTimelineEntry, SlowInitcallIsListedWithTheKernelsStamp) {
  auto line = boot_timeline_entry("7,412,1234567,-;initcall inet_init+0x0/0x2a0 returned 0 after 12046 usecs\n");
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(*line, "[     1234.567 ms] initcall inet_init+0x0/0x2a0 returned 0 after 12046 usecs");
}

TEST(BootTimelineEntry, FastInitcallIsLeftOut) {
  EXPECT_FALSE(boot_timeline_entry("7,413,1234600,-;initcall foo+0x0/0x20 returned 0 after 4999 usecs"));
  EXPECT_TRUE(boot_timeline_entry("7,413,1234600,-;initcall foo+0x0/0x20 returned 0 after 5000 usecs"));
}

TEST(BootTimelineEntry, PhaseMarksAreListedOtherMessagesNot) {
  auto run = boot_timeline_entry("6,500,2950001,-;Run /init as init process");
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(*run, "[     2950.001 ms] Run /init as init process");
  EXPECT_TRUE(boot_timeline_entry("5,1,0,-;Linux version 6.1.0-hull (hull@hull)"));
  EXPECT_TRUE(boot_timeline_entry("6,300,900000,-;Trying to unpack rootfs image as initramfs..."));
  EXPECT_FALSE(boot_timeline_entry("6,301,900100,-;NET: Registered PF_INET6 protocol family"));
}

TEST(BootTimelineEntry, MalformedRecordsAreLeftOut) {
  EXPECT_FALSE(boot_timeline_entry(""));
  EXPECT_FALSE(boot_timeline_entry("Run /init as init process"));             // no prefix
  EXPECT_FALSE(boot_timeline_entry("6,500;Run /init as init process"));       // no timestamp
  EXPECT_FALSE(boot_timeline_entry("6,500,abc,-;Run /init as init process"));  // bad timestamp
  EXPECT_FALSE(boot_timeline_entry("7,1,5,-;initcall x returned 0 after lots usecs"));
}

}  // namespace
}  // namespace hull::agent
