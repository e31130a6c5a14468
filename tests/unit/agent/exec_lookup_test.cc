// The create-time lookup of the container's program (runtime/exec_lookup.h):
// runc's (Go's) error texts, PATH search and relative paths.
#include "runtime/exec_lookup.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace hull::runtime {
namespace {
namespace fs = std::filesystem;

class ExecLookup : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/exec-lookup.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "bin");
    fs::create_directories(dir_ / "sbin");
    Make(dir_ / "bin" / "tool", 0755);
    Make(dir_ / "sbin" / "plain", 0644);
    Make(dir_ / "sbin" / "later", 0755);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static void Make(const fs::path& p, mode_t mode) {
    std::ofstream(p) << "#!/bin/sh\n";
    ::chmod(p.c_str(), mode);
  }
  std::string Path(const std::string& rel) const { return (dir_ / rel).string(); }
  fs::path dir_;
};

TEST_F(ExecLookup, AnExecutableFileByPathIsFine) {
  EXPECT_EQ(find_executable_error(Path("bin/tool"), {}, "/"), std::nullopt);
}

TEST_F(ExecLookup, AMissingPathGivesRuncsStatError) {
  const std::string p = Path("bin/nope");
  EXPECT_EQ(find_executable_error(p, {}, "/"), "exec: \"" + p + "\": stat " + p + ": no such file or directory");
  const std::string under_file = Path("bin/tool/x");
  EXPECT_EQ(find_executable_error(under_file, {}, "/"),
            "exec: \"" + under_file + "\": stat " + under_file + ": not a directory");
}

TEST_F(ExecLookup, NotExecutableOrADirectoryIsPermissionDenied) {
  EXPECT_EQ(find_executable_error(Path("sbin/plain"), {}, "/"), "exec: \"" + Path("sbin/plain") + "\": permission denied");
  EXPECT_EQ(find_executable_error(Path("bin"), {}, "/"), "exec: \"" + Path("bin") + "\": permission denied");
}

TEST_F(ExecLookup, RelativePathsStartAtTheWorkingDirectory) {
  EXPECT_EQ(find_executable_error("./bin/tool", {}, dir_.string()), std::nullopt);
  EXPECT_EQ(find_executable_error("bin/tool", {}, dir_.string()), std::nullopt);
  EXPECT_NE(find_executable_error("./bin/tool", {}, "/"), std::nullopt);
}

TEST_F(ExecLookup, NamesAreSearchedAlongThePathOfTheProcessEnv) {
  const std::vector<std::string> env = {"HOME=/", "PATH=" + Path("sbin") + ":" + Path("bin")};
  EXPECT_EQ(find_executable_error("tool", env, "/"), std::nullopt);
  EXPECT_EQ(find_executable_error("later", env, "/"), std::nullopt);
  // A non-executable match is skipped, as execvp and LookPath skip it.
  EXPECT_EQ(find_executable_error("plain", env, "/"), "exec: \"plain\": executable file not found in $PATH");
  EXPECT_EQ(find_executable_error("nope", env, "/"), "exec: \"nope\": executable file not found in $PATH");
  // An empty PATH entry is the working directory.
  EXPECT_EQ(find_executable_error("tool", {"PATH=/nonexistent:"}, Path("bin")), std::nullopt);
}

TEST_F(ExecLookup, WithoutPathTheDefaultOfExecvpIsSearched) {
  EXPECT_EQ(find_executable_error("sh", {"HOME=/"}, "/"), std::nullopt);  // /bin/sh on any test host
  EXPECT_EQ(find_executable_error("tool", {"HOME=/"}, "/"), "exec: \"tool\": executable file not found in $PATH");
}

TEST_F(ExecLookup, QuotesInTheNameAreEscapedAsGoQuotes) {
  EXPECT_EQ(find_executable_error("/no\"pe", {}, "/"), "exec: \"/no\\\"pe\": stat /no\"pe: no such file or directory");
  EXPECT_EQ(find_executable_error("", {}, "/"), "exec: \"\": executable file not found in $PATH");
}

}  // namespace
}  // namespace hull::runtime
