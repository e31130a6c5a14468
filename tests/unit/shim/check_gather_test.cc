#include "check/gather.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace hull::check {
namespace {

namespace fs = std::filesystem;

// A fake /proc/cpuinfo and /sys/module in a temporary directory.
class CheckGather : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-check-gather-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "module" / "kvm");
    fs::create_directories(dir_ / "module" / "kvm_pvm");
    std::ofstream(dir_ / "cpuinfo") << "processor\t: 0\nflags\t\t: fpu sse2 hypervisor\n";
    std::ofstream(dir_ / "not-a-device") << "x";
    options_.cpuinfo_path = dir_ / "cpuinfo";
    options_.sys_module_dir = dir_ / "module";
    options_.kvm_path = dir_ / "kvm";
    options_.tun_path = dir_ / "tun";
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  GatherOptions options_;
};

TEST_F(CheckGather, ReadsCpuFlagsAndLoadedKvmModules) {
  const Facts f = Gather(options_);
  EXPECT_EQ(f.cpu_flags, (std::set<std::string>{"fpu", "sse2", "hypervisor"}));
  EXPECT_EQ(f.kvm_modules, (std::set<std::string>{"kvm", "kvm_pvm"}));
  EXPECT_TRUE(f.kvm_pvm_loaded);
  EXPECT_EQ(f.kvm_path, options_.kvm_path);
}

TEST_F(CheckGather, MissingDeviceIsAFactNotAnError) {
  const Facts f = Gather(options_);
  EXPECT_FALSE(f.kvm.exists);
  EXPECT_EQ(f.kvm.open_errno, -1);
  EXPECT_FALSE(f.kvm.ring0.has_value());
  EXPECT_EQ(f.tun_errno, ENOENT);
}

TEST_F(CheckGather, RegularFileIsNotACharacterDevice) {
  options_.kvm_path = dir_ / "not-a-device";
  const Facts f = Gather(options_);
  EXPECT_TRUE(f.kvm.exists);
  EXPECT_FALSE(f.kvm.is_char_device);
  EXPECT_EQ(f.kvm.api_version, -1);
}

TEST_F(CheckGather, CharacterDeviceThatIsNotKvm) {
  options_.kvm_path = "/dev/null";  // opens read-write, but KVM_GET_API_VERSION fails
  const Facts f = Gather(options_);
  EXPECT_TRUE(f.kvm.is_char_device);
  EXPECT_EQ(f.kvm.open_errno, 0);
  EXPECT_NE(f.kvm.api_version, 12);
  EXPECT_FALSE(f.kvm.ring0.has_value());
}

TEST_F(CheckGather, NoModulesNoFlags) {
  fs::remove_all(dir_ / "module");
  std::ofstream(dir_ / "cpuinfo", std::ios::trunc) << "";
  const Facts f = Gather(options_);
  EXPECT_TRUE(f.cpu_flags.empty());
  EXPECT_TRUE(f.kvm_modules.empty());
  EXPECT_FALSE(f.kvm_pvm_loaded);
}

}  // namespace
}  // namespace hull::check
