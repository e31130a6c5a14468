// Tests of the guest build scripts' behaviour on good and bad input:
// guest-image/make-initramfs, kernel-config/check-config and the argument and
// tool checks of kernel-config/build-kernel (which fail before any build).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "command.h"
#include "cpio_reader.h"

namespace hull::guest_test {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = HULL_SOURCE_DIR;
const std::string kMakeInitramfs = (kSource / "guest-image/make-initramfs").string();
const std::string kCheckConfig = (kSource / "kernel-config/check-config").string();
const std::string kBuildKernel = (kSource / "kernel-config/build-kernel").string();

// A static binary to stand in for /init in these tests: the host's stand-in
// init, built by the test's CMake target.
const std::string kStaticInit = HULL_TEST_STATIC_INIT;

CommandResult MakeInitramfs(const std::string& args, const std::string& env = "") {
  return RunCommand(env + " " + ShellQuote(kMakeInitramfs) + " " + args + " 2>&1");
}

class MakeInitramfsTest : public ::testing::Test {
 protected:
  TempDir dir;
  std::string Out(const std::string& name) { return (dir.path() / name).string(); }
};

TEST_F(MakeInitramfsTest, HoldsOnlyInitAndTheEntriesTheKernelNeedsSortedWithFixedMetadata) {
  const auto r = MakeInitramfs("--compress none --init " + ShellQuote(kStaticInit) + " --output " +
                               ShellQuote(Out("a.cpio")));
  ASSERT_EQ(r.exit_status, 0) << r.output;
  const auto entries = ReadCpio(ReadFile(Out("a.cpio")));
  std::vector<std::string> names;
  for (const auto& e : entries) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"dev", "dev/console", "init", "proc", "sys"}));
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    EXPECT_EQ(e.mtime, 0u) << e.name;
    EXPECT_EQ(e.uid, 0u) << e.name;
    EXPECT_EQ(e.gid, 0u) << e.name;
    EXPECT_EQ(e.ino, i + 1) << e.name;
  }
  EXPECT_EQ(entries[1].mode, S_IFCHR | 0600u);
  EXPECT_EQ(entries[1].rdev_major, 5u);
  EXPECT_EQ(entries[1].rdev_minor, 1u);
  EXPECT_EQ(entries[2].mode, S_IFREG | 0755u);
  EXPECT_EQ(entries[2].data, ReadFile(kStaticInit));
  EXPECT_EQ(entries[0].mode, S_IFDIR | 0755u);
}

TEST_F(MakeInitramfsTest, SameInitGivesSameBytesWhateverTheFileTimesForEachCompressor) {
  const fs::path copy = dir.path() / "init-copy";
  fs::copy_file(kStaticInit, copy);
  ASSERT_EQ(RunCommand("touch -d '2001-02-03 04:05:06' " + ShellQuote(copy.string())).exit_status,
            0);
  for (const std::string method : {"lz4", "gzip", "none"}) {
    const std::string a = Out("a." + method), b = Out("b." + method);
    auto r = MakeInitramfs("--compress " + method + " --init " + ShellQuote(kStaticInit) +
                           " --output " + ShellQuote(a));
    ASSERT_EQ(r.exit_status, 0) << r.output;
    r = MakeInitramfs("--compress " + method + " --init " + ShellQuote(copy.string()) +
                      " --output " + ShellQuote(b));
    ASSERT_EQ(r.exit_status, 0) << r.output;
    EXPECT_EQ(ReadFile(a), ReadFile(b)) << method << " output differs between runs";
  }
}

TEST_F(MakeInitramfsTest, Lz4OutputIsTheLegacyFrameTheKernelReads) {
  const auto r =
      MakeInitramfs("--init " + ShellQuote(kStaticInit) + " --output " + ShellQuote(Out("i.lz4")));
  ASSERT_EQ(r.exit_status, 0) << r.output;
  const std::string image = ReadFile(Out("i.lz4"));
  ASSERT_GE(image.size(), 4u);
  EXPECT_EQ(image.substr(0, 4), std::string("\x02\x21\x4c\x18", 4)) << "not lz4 legacy magic";
  const auto plain = RunCommand("lz4 -d -c " + ShellQuote(Out("i.lz4")));
  ASSERT_EQ(plain.exit_status, 0);
  EXPECT_EQ(ReadCpio(plain.output).size(), 5u);
}

TEST_F(MakeInitramfsTest, SourceDateEpochSetsTheMtimes) {
  const auto r = MakeInitramfs("--compress none --init " + ShellQuote(kStaticInit) + " --output " +
                                   ShellQuote(Out("e.cpio")),
                               "SOURCE_DATE_EPOCH=1700000000");
  ASSERT_EQ(r.exit_status, 0) << r.output;
  for (const auto& e : ReadCpio(ReadFile(Out("e.cpio")))) EXPECT_EQ(e.mtime, 1700000000u);
}

TEST_F(MakeInitramfsTest, RejectsAMissingInitAndLeavesNothingBehind) {
  const auto r = MakeInitramfs("--init /nonexistent/hull-agent --output " + ShellQuote(Out("x")));
  EXPECT_NE(r.exit_status, 0);
  EXPECT_NE(r.output.find("--init /nonexistent/hull-agent: No such file or directory"),
            std::string::npos)
      << r.output;
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST_F(MakeInitramfsTest, RejectsADynamicallyLinkedInit) {
  const auto r = MakeInitramfs("--init /bin/sh --output " + ShellQuote(Out("x")));
  EXPECT_NE(r.exit_status, 0);
  EXPECT_NE(r.output.find("dynamically linked"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST_F(MakeInitramfsTest, RejectsANonElfInit) {
  WriteFile(dir.path() / "script", "#!/bin/sh\necho hi\n");
  const auto r = MakeInitramfs("--init " + ShellQuote((dir.path() / "script").string()) +
                               " --output " + ShellQuote(Out("x")));
  EXPECT_NE(r.exit_status, 0);
  EXPECT_NE(r.output.find("is not an ELF executable"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(Out("x")));
}

class CheckConfigTest : public ::testing::Test {
 protected:
  TempDir dir;
  CommandResult Check(const std::string& final_config, const std::string& fragment) {
    WriteFile(dir.path() / "final", final_config);
    WriteFile(dir.path() / "frag.config", fragment);
    return RunCommand(ShellQuote(kCheckConfig) + " " + ShellQuote((dir.path() / "final").string()) +
                      " " + ShellQuote((dir.path() / "frag.config").string()) + " 2>&1");
  }
};

TEST_F(CheckConfigTest, PassesWhenEveryRequestStuck) {
  const auto r = Check("CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_N=-1\nCONFIG_OTHER=y\n",
                       "# comment\nCONFIG_A=y\n# CONFIG_B is not set\n# CONFIG_C is not set\n"
                       "CONFIG_N=-1\n");
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_NE(r.output.find("all 4 requested options"), std::string::npos) << r.output;
}

TEST_F(CheckConfigTest, FailsNamingEachDroppedOption) {
  const auto r = Check("# CONFIG_IPC_NS is not set\nCONFIG_B=y\nCONFIG_N=0\n",
                       "CONFIG_IPC_NS=y\n# CONFIG_B is not set\nCONFIG_EROFS_FS=y\nCONFIG_N=-1\n");
  EXPECT_EQ(r.exit_status, 1) << r.output;
  EXPECT_NE(r.output.find("4 requested option(s) did not stick"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("CONFIG_IPC_NS: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("CONFIG_B: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("CONFIG_EROFS_FS: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("final .config absent: an unmet dependency"), std::string::npos);
  EXPECT_NE(r.output.find("CONFIG_N: "), std::string::npos) << r.output;
}

TEST_F(CheckConfigTest, RejectsAMalformedFragmentLine) {
  const auto r = Check("CONFIG_A=y\n", "CONFIG_A=y\nVIRTIO=y\n");
  EXPECT_EQ(r.exit_status, 2) << r.output;
  EXPECT_NE(r.output.find("frag.config:2: not a Kconfig line"), std::string::npos) << r.output;
}

class BuildKernelErrorsTest : public ::testing::Test {
 protected:
  TempDir cache;
  CommandResult BuildKernel(const std::string& args, const std::string& env = "") {
    return RunCommand(env + " " + ShellQuote(kBuildKernel) + " --cache-dir " +
                      ShellQuote(cache.path().string()) + " --out " +
                      ShellQuote((cache.path() / "out").string()) + " " + args + " 2>&1");
  }
  void ExpectNothingLeftBehind() { EXPECT_TRUE(fs::is_empty(cache.path())); }
};

TEST_F(BuildKernelErrorsTest, UnknownArchitecture) {
  const auto r = BuildKernel("--arch riscv64");
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.output.find("unsupported --arch 'riscv64' (use x86_64 or aarch64"), std::string::npos)
      << r.output;
  ExpectNothingLeftBehind();
}

TEST_F(BuildKernelErrorsTest, MissingArchitecture) {
  const auto r = BuildKernel("");
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.output.find("--arch is required"), std::string::npos) << r.output;
}

TEST_F(BuildKernelErrorsTest, MissingKernelSourceSaysWhatToInstall) {
  const auto r = BuildKernel("--arch x86_64 --source /nonexistent/linux-source-6.1.tar.xz");
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.output.find("kernel source /nonexistent/linux-source-6.1.tar.xz not found"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("apt-get install linux-source-6.1"), std::string::npos) << r.output;
  ExpectNothingLeftBehind();
}

TEST_F(BuildKernelErrorsTest, MissingCrossCompiler) {
  const auto r = BuildKernel("--arch aarch64 --source " + ShellQuote(kBuildKernel),
                             "CROSS_COMPILE=nonexistent-");
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.output.find("compiler 'nonexistent-gcc' not found"), std::string::npos) << r.output;
  ExpectNothingLeftBehind();
}

TEST_F(BuildKernelErrorsTest, CrossCompilerForTheWrongArchitecture) {
  // The host's own compiler is an x86_64 one here (and an aarch64 one on arm64
  // hosts): either way one of the two arches gets the wrong compiler.
  const bool host_is_arm = RunCommand("uname -m").output.starts_with("aarch64");
  const std::string arch = host_is_arm ? "x86_64" : "aarch64";
  const auto r =
      BuildKernel("--arch " + arch + " --source " + ShellQuote(kBuildKernel), "CROSS_COMPILE=");
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.output.find("not " + arch + ": set CROSS_COMPILE"), std::string::npos) << r.output;
  ExpectNothingLeftBehind();
}

TEST_F(BuildKernelErrorsTest, BadJobCount) {
  const auto r = BuildKernel("--arch x86_64 --jobs lots");
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.output.find("--jobs must be a positive number"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace hull::guest_test
