#include "jailer/jail_options.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <vector>

#include "jailer/jail_layout.h"
#include "jailer/jailer_error.h"

namespace hull::vmm::jailer {
namespace {
namespace fs = std::filesystem;

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const JailerError& e) {
    return e.what();
  }
  return "";
}

TEST(JailerId, AcceptsContainerStyleIds) {
  EXPECT_NO_THROW(ValidateId("vm-0123456789abcdef"));
  EXPECT_NO_THROW(ValidateId("a"));
  EXPECT_NO_THROW(ValidateId(std::string(64, 'x')));
  EXPECT_NO_THROW(ValidateId("pod_1.2-3"));
}

TEST(JailerId, RefusesTraversalAndOddBytes) {
  for (const std::string& bad : std::vector<std::string>{"", "..", ".", "../etc", "a/b", "/abs", ".hidden", "-flag", "a b", "a\nb",
                                std::string("a\0b", 3), "\xff\xfe", std::string(65, 'x')}) {
    EXPECT_NE(ErrorOf([&] { ValidateId(bad); }), "") << "accepted id '" << bad << "'";
  }
  EXPECT_NE(ErrorOf([] { ValidateId("a/../../etc"); }).find("only letters"), std::string::npos);
  EXPECT_NE(ErrorOf([] { ValidateId("../../etc"); }).find("must not start with '.'"), std::string::npos);
}

TEST(JailerPaths, MirroredPathsMustBeAbsoluteAndNormal) {
  EXPECT_NO_THROW(ValidateMirroredPath("/run/hull/shim/1/rootfs.erofs", "--file"));
  EXPECT_NE(ErrorOf([] { ValidateMirroredPath("relative/file", "--file"); }).find("absolute"), std::string::npos);
  EXPECT_NE(ErrorOf([] { ValidateMirroredPath("/run/../etc/shadow", "--file"); }).find("'..'"), std::string::npos);
  EXPECT_NE(ErrorOf([] { ValidateMirroredPath("/run/./x", "--file"); }), "");
  EXPECT_NE(ErrorOf([] { ValidateMirroredPath("/", "--file"); }), "");
  EXPECT_NE(ErrorOf([] { ValidateMirroredPath("", "--file"); }), "");
}

class JailerStartOptions : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("jailer-opts-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "kernel") << "k";
    o_.id = "vm-1";
    o_.exec_file = "/bin/sh";
    o_.uid = o_.gid = 123456;
    o_.uid_given = o_.gid_given = true;
    o_.chroot_base = dir_ / "jail";
    o_.files = {dir_ / "kernel"};
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  JailOptions o_;
};

TEST_F(JailerStartOptions, ValidOptionsPass) { EXPECT_EQ(ErrorOf([&] { ValidateForStart(o_); }), ""); }

TEST_F(JailerStartOptions, RootIdsAreRefusedUnlessAllowed) {
  o_.uid = 0;
  EXPECT_NE(ErrorOf([&] { ValidateForStart(o_); }).find("--uid/--gid 0"), std::string::npos);
  o_.allow_root = true;
  EXPECT_EQ(ErrorOf([&] { ValidateForStart(o_); }), "");
  o_.allow_root = false;
  o_.uid = 5;
  o_.gid = 0;
  EXPECT_NE(ErrorOf([&] { ValidateForStart(o_); }), "");
}

TEST_F(JailerStartOptions, MissingIdsFilesAndExecAreNamed) {
  o_.uid_given = false;
  EXPECT_NE(ErrorOf([&] { ValidateForStart(o_); }).find("--uid and --gid"), std::string::npos);
  o_.uid_given = true;
  o_.files.push_back(dir_ / "missing.img");
  EXPECT_NE(ErrorOf([&] { ValidateForStart(o_); }).find("missing.img"), std::string::npos);
  o_.files.pop_back();
  o_.files.push_back(dir_);  // a directory is not a file
  EXPECT_NE(ErrorOf([&] { ValidateForStart(o_); }).find("not a regular file"), std::string::npos);
  o_.files.pop_back();
  o_.exec_file = dir_ / "kernel";  // not executable
  EXPECT_NE(ErrorOf([&] { ValidateForStart(o_); }).find("not executable"), std::string::npos);
  o_.exec_file = "hull-vmm";
  EXPECT_NE(ErrorOf([&] { ValidateForStart(o_); }).find("absolute"), std::string::npos);
}

TEST_F(JailerStartOptions, TraversalInFilesOrSocketDirsIsRefused) {
  o_.files = {dir_ / ".." / fs::path(dir_).filename() / "kernel"};
  EXPECT_NE(ErrorOf([&] { ValidateForStart(o_); }).find("'..'"), std::string::npos);
  o_.files = {};
  o_.socket_dirs = {"/run/hull/../../etc"};
  EXPECT_NE(ErrorOf([&] { ValidateForStart(o_); }).find("--socket-dir"), std::string::npos);
}

TEST_F(JailerStartOptions, ShareDirsMustBeRealDirectories) {
  fs::create_directories(dir_ / "share");
  o_.share_dirs = {dir_ / "share"};
  EXPECT_EQ(ErrorOf([&] { ValidateForStart(o_); }), "");
  o_.share_dirs = {dir_ / "kernel"};
  EXPECT_NE(ErrorOf([&] { ValidateForStart(o_); }).find("is not a directory"), std::string::npos);
  o_.share_dirs = {dir_ / "missing"};
  EXPECT_NE(ErrorOf([&] { ValidateForStart(o_); }).find("--share-dir"), std::string::npos);
  fs::create_directory_symlink(dir_ / "share", dir_ / "link");
  o_.share_dirs = {dir_ / "link"};  // a symlink could point the jail at any host directory
  EXPECT_NE(ErrorOf([&] { ValidateForStart(o_); }).find("symlink"), std::string::npos);
  o_.share_dirs = {"relative/share"};
  EXPECT_NE(ErrorOf([&] { ValidateForStart(o_); }).find("absolute"), std::string::npos);
  o_.share_dirs = {dir_ / "share" / ".." / "share"};
  EXPECT_NE(ErrorOf([&] { ValidateForStart(o_); }).find("'..'"), std::string::npos);
}

TEST_F(JailerStartOptions, CgroupRootMustBeAbsoluteAndNormal) {
  // Found by the bad-input matrix: a relative or empty --cgroup-root was taken as is.
  for (const char* bad : {"", "-1", "../../../escaped", "/sys/fs/cgroup/../.."}) {
    o_.cgroup_root = bad;
    EXPECT_NE(ErrorOf([&] { ValidateForStart(o_); }).find("--cgroup-root"), std::string::npos) << bad;
  }
}

TEST_F(JailerStartOptions, LimitsAndTapsAreRangeChecked) {
  o_.limits.memory_max = 1024;
  EXPECT_NE(ErrorOf([&] { ValidateForStart(o_); }).find("--memory-max"), std::string::npos);
  o_.limits.memory_max.reset();
  o_.limits.cpus = 0;
  EXPECT_NE(ErrorOf([&] { ValidateForStart(o_); }).find("--cpus"), std::string::npos);
  o_.limits.cpus.reset();
  o_.limits.pids_max = 1;
  EXPECT_NE(ErrorOf([&] { ValidateForStart(o_); }).find("--pids-max"), std::string::npos);
  o_.limits.pids_max.reset();
  o_.taps = {"a-name-longer-than-15"};
  EXPECT_NE(ErrorOf([&] { ValidateForStart(o_); }).find("--tap"), std::string::npos);
  o_.taps = {"../x"};
  EXPECT_NE(ErrorOf([&] { ValidateForStart(o_); }), "");
}

TEST(JailerLayout, FollowsFirecrackersLayoutAndMirrorsPaths) {
  JailLayout layout("/run/hull/jail", "/usr/local/bin/hull-vmm", "vm-1");
  EXPECT_EQ(layout.jail_dir(), "/run/hull/jail/hull-vmm/vm-1");
  EXPECT_EQ(layout.root(), "/run/hull/jail/hull-vmm/vm-1/root");
  EXPECT_EQ(layout.InRoot("/run/hull/shim/7/api.sock"), "/run/hull/jail/hull-vmm/vm-1/root/run/hull/shim/7/api.sock");
  EXPECT_EQ(layout.CgroupPath(), "hull-vmm/vm-1");
  EXPECT_NE(ErrorOf([&] { layout.InRoot("/run/../../etc/passwd"); }), "");
  EXPECT_NE(ErrorOf([] { JailLayout("/run/hull/jail", "/bin/hull-vmm", "../../etc"); }), "");
  EXPECT_NE(ErrorOf([] { JailLayout("relative/base", "/bin/hull-vmm", "vm-1"); }), "");
}

}  // namespace
}  // namespace hull::vmm::jailer
