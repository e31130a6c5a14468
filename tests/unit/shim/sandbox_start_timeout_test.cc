// HULL_START_TIMEOUT: how long the shim waits for a new microVM's VMM and
// agent (sized up for many sandboxes starting at once on a slow host).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "sandbox/runtime_paths.h"
#include "sandbox/sandbox_error.h"

namespace hull::shim {
namespace {
using std::chrono::seconds;

TEST(StartTimeoutFrom, UnsetOrEmptyKeepsTheDefault) {
  EXPECT_EQ(StartTimeoutFrom(nullptr, seconds(60)), seconds(60));
  EXPECT_EQ(StartTimeoutFrom("", seconds(60)), seconds(60));
}

TEST(StartTimeoutFrom, WholeSecondsWithinBounds) {
  EXPECT_EQ(StartTimeoutFrom("1", seconds(60)), seconds(1));
  EXPECT_EQ(StartTimeoutFrom("900", seconds(60)), seconds(900));
  EXPECT_EQ(StartTimeoutFrom("3600", seconds(60)), seconds(3600));
}

TEST(StartTimeoutFrom, BadValuesAreRefusedNamingTheVariable) {
  for (const char* bad : {"0", "-5", "3601", "99999999999999999999", "10s", " 10", "+10", "ten", "1.5", "\xff"}) {
    try {
      StartTimeoutFrom(bad, seconds(60));
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const SandboxError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("HULL_START_TIMEOUT"), std::string::npos) << what;
      EXPECT_NE(what.find("1 to 3600"), std::string::npos) << what;
    }
  }
}

}  // namespace
}  // namespace hull::shim
