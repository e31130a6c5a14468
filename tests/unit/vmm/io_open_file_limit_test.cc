#include "io/open_file_limit.h"

#include <gtest/gtest.h>

namespace hull::vmm::io {
namespace {

TEST(OpenFileLimitTest, TheSoftLimitRisesToTheHardOne) {
  const rlimit raised = RaisedOpenFileLimit({1024, 524288});
  EXPECT_EQ(raised.rlim_cur, 524288u);
  EXPECT_EQ(raised.rlim_max, 524288u);
}

TEST(OpenFileLimitTest, RaisingThisProcessLeavesSoftEqualToHard) {
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
  EXPECT_EQ(RaiseOpenFileLimit(), before.rlim_max);
  rlimit after{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(after.rlim_cur, before.rlim_max);
  EXPECT_EQ(after.rlim_max, before.rlim_max);
}

}  // namespace
}  // namespace hull::vmm::io
