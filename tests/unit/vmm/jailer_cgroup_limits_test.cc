#include "jailer/cgroup_limits.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "jailer/jailer_error.h"

namespace hull::vmm::jailer {
namespace {
namespace fs = std::filesystem;

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(JailerCgroup, V2LimitFiles) {
  CgroupLimits l;
  l.cpus = 1.5;
  l.memory_max = 512ull << 20;
  l.pids_max = 256;
  const auto w = LimitWrites(CgroupVersion::kV2, l);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].file, "cpu.max");
  EXPECT_EQ(w[0].value, "150000 100000");
  EXPECT_EQ(w[1].file, "memory.max");
  EXPECT_EQ(w[1].value, "536870912");
  EXPECT_EQ(w[2].file, "pids.max");
  EXPECT_EQ(w[2].value, "256");
}

TEST(JailerCgroup, V1LimitFiles) {
  CgroupLimits l;
  l.cpus = 0.5;
  l.memory_max = 64ull << 20;
  const auto w = LimitWrites(CgroupVersion::kV1, l);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].controller, "cpu");
  EXPECT_EQ(w[0].file, "cpu.cfs_period_us");
  EXPECT_EQ(w[1].file, "cpu.cfs_quota_us");
  EXPECT_EQ(w[1].value, "50000");
  EXPECT_EQ(w[2].file, "memory.limit_in_bytes");
  EXPECT_TRUE(LimitWrites(CgroupVersion::kV1, CgroupLimits{}).empty());
}

class FakeCgroupRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("jailer-cgroup-" + std::to_string(::getpid()));
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

// A plain directory stands in for cgroupfs: the files the jailer writes
// are ordinary files here, so what it writes where can be read back.
TEST_F(FakeCgroupRoot, V2EnablesControllersDownThePathThenLimitsThenJoins) {
  std::ofstream(root_ / "cgroup.controllers") << "cpu memory pids";
  EXPECT_EQ(DetectCgroupVersion(root_), CgroupVersion::kV2);
  CgroupLimits l;
  l.memory_max = 300ull << 20;
  l.pids_max = 64;
  JoinLimitedCgroup(root_, "hull-vmm/vm-1", l, 4242);
  EXPECT_EQ(Read(root_ / "cgroup.subtree_control"), "+memory +pids");
  EXPECT_EQ(Read(root_ / "hull-vmm/cgroup.subtree_control"), "+memory +pids");
  EXPECT_EQ(Read(root_ / "hull-vmm/vm-1/memory.max"), std::to_string(300ull << 20));
  EXPECT_EQ(Read(root_ / "hull-vmm/vm-1/pids.max"), "64");
  EXPECT_EQ(Read(root_ / "hull-vmm/vm-1/cgroup.procs"), "4242");
}

TEST_F(FakeCgroupRoot, V1UsesEachControllersHierarchyAndNamesAMissingOne) {
  EXPECT_EQ(DetectCgroupVersion(root_), CgroupVersion::kV1);
  fs::create_directories(root_ / "pids");
  CgroupLimits l;
  l.pids_max = 64;
  JoinLimitedCgroup(root_, "hull-vmm/vm-1", l, 4242);
  EXPECT_EQ(Read(root_ / "pids/hull-vmm/vm-1/pids.max"), "64");
  EXPECT_EQ(Read(root_ / "pids/hull-vmm/vm-1/cgroup.procs"), "4242");
  l.memory_max = 64ull << 20;  // no memory hierarchy here
  try {
    JoinLimitedCgroup(root_, "hull-vmm/vm-2", l, 4242);
    FAIL() << "a limit without its controller was accepted";
  } catch (const JailerError& e) {
    EXPECT_NE(std::string(e.what()).find("no memory hierarchy"), std::string::npos) << e.what();
  }
}

TEST_F(FakeCgroupRoot, RemovingACgroupThatIsNotThereIsFine) {
  EXPECT_TRUE(RemoveCgroup(root_, "hull-vmm/none").empty());
}

}  // namespace
}  // namespace hull::vmm::jailer
