#include "kconfig_parser.h"

#include <gtest/gtest.h>

namespace hull::guest_test {
namespace {

TEST(KconfigParser, ReadsSetUnsetAndStringValues) {
  const auto options = ParseKconfig(
      "#\n# Automatically generated file\n#\nCONFIG_64BIT=y\n# CONFIG_MODULES is not set\n"
      "CONFIG_PANIC_TIMEOUT=-1\nCONFIG_CMDLINE=\"a=b c\"\n\n",
      "test");
  EXPECT_EQ(options.size(), 4u);
  EXPECT_EQ(Lookup(options, "CONFIG_64BIT"), "y");
  EXPECT_EQ(Lookup(options, "CONFIG_PANIC_TIMEOUT"), "-1");
  EXPECT_EQ(Lookup(options, "CONFIG_CMDLINE"), "\"a=b c\"");
  EXPECT_TRUE(options.contains("CONFIG_MODULES"));
  EXPECT_EQ(Lookup(options, "CONFIG_MODULES"), std::nullopt);
  EXPECT_EQ(Lookup(options, "CONFIG_ABSENT"), std::nullopt);
}

TEST(KconfigParser, CommentsThatLookLikeOptionsAreNotOptions) {
  const auto options = ParseKconfig(
      "# CONFIG_X is set to y below\n#CONFIG_Y=y\n# CONFIG_Z is not set, really\n", "test");
  EXPECT_TRUE(options.empty());
}

TEST(KconfigParser, RejectsMalformedLinesNamingThem) {
  try {
    ParseKconfig("CONFIG_A=y\nVIRTIO_MMIO=y\n", "frag.config");
    FAIL() << "a line without the CONFIG_ prefix was accepted";
  } catch (const KconfigError& e) {
    EXPECT_STREQ(e.what(), "frag.config:2: not a Kconfig line: 'VIRTIO_MMIO=y'");
  }
  EXPECT_THROW(ParseKconfig("CONFIG_A y\n", "t"), KconfigError);
}

TEST(KconfigParser, RejectsContradictionsButAllowsRepeats) {
  EXPECT_THROW(ParseKconfig("CONFIG_A=y\n# CONFIG_A is not set\n", "t"), KconfigError);
  EXPECT_THROW(ParseKconfig("CONFIG_A=y\nCONFIG_A=n\n", "t"), KconfigError);
  EXPECT_EQ(ParseKconfig("CONFIG_A=y\nCONFIG_A=y\n", "t").size(), 1u);
}

TEST(KconfigParser, MissingFileIsAnError) {
  EXPECT_THROW(LoadKconfig("/nonexistent/hull/.config"), KconfigError);
}

}  // namespace
}  // namespace hull::guest_test
