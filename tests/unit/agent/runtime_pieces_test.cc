// Unit tests of the engine's small pieces (no root needed).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "runtime/cgroup.h"
#include "runtime/error.h"
#include "runtime/mount_options.h"
#include "runtime/reaper.h"
#include "runtime/safe_path.h"
#include "runtime/user_lookup.h"

namespace hull::runtime {
namespace {

namespace fs = std::filesystem;

TEST(AgentMountOptions, FlagsPropagationAndData) {
  MountOptions o =
      parse_mount_options({"nosuid", "noexec", "ro", "mode=755", "size=64k", "rprivate"});
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_RDONLY));
  EXPECT_EQ(o.propagation, static_cast<unsigned long>(MS_PRIVATE | MS_REC));
  EXPECT_EQ(o.data, "mode=755,size=64k");
  EXPECT_FALSE(o.bind());
  MountOptions b = parse_mount_options({"rbind", "ro", "rw"});
  EXPECT_TRUE(b.bind());
  EXPECT_EQ(b.flags, static_cast<unsigned long>(MS_BIND | MS_REC));  // rw clears ro
  EXPECT_TRUE(parse_mount_options({}).data.empty());
}

TEST(AgentCgroup, OciValuesBecomeV2Files) {
  EXPECT_EQ(cpu_shares_to_weight(2), 1u);
  EXPECT_EQ(cpu_shares_to_weight(1024), 39u);
  EXPECT_EQ(cpu_shares_to_weight(262144), 10000u);
  EXPECT_EQ(blkio_weight_to_io_weight(10), 1u);
  EXPECT_EQ(blkio_weight_to_io_weight(1000), 10000u);
  oci::Resources r;
  r.memory.limit = 100 << 20;
  r.memory.swap = 150 << 20;
  r.cpu.quota = 50000;
  r.pids_limit = -1;
  r.unified["memory.high"] = "80M";
  auto files = resource_files(r);
  std::map<std::string, std::string> m(files.begin(), files.end());
  EXPECT_EQ(m.at("memory.max"), std::to_string(100 << 20));
  EXPECT_EQ(m.at("memory.swap.max"), std::to_string(50 << 20));
  EXPECT_EQ(m.at("cpu.max"), "50000 100000");
  EXPECT_EQ(m.at("pids.max"), "max");
  EXPECT_EQ(m.at("memory.high"), "80M");
  EXPECT_TRUE(resource_files(oci::Resources{}).empty());
}

TEST(AgentCgroup, StatsReadSwapAndMemoryEventsFromTheCgroupDir) {
  // A plain directory stands in for cgroupfs: the reader only reads files.
  fs::path root = fs::temp_directory_path() / ("hull-cgroup-test-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  Cgroup cg(root.string(), "/pod/c1");
  auto put = [&](const std::string& file, const std::string& text) {
    std::ofstream(cg.dir() + "/" + file) << text;
  };
  put("memory.current", "4096\n");
  put("memory.max", "max\n");
  put("memory.swap.current", "8192\n");
  put("memory.swap.max", "1048576\n");
  put("memory.events", "low 1\nhigh 2\nmax 3\noom 4\noom_kill 5\noom_group_kill 6\n");
  CgroupStats s = cg.stats();
  EXPECT_EQ(s.memory_current, 4096u);
  EXPECT_EQ(s.memory_max, 0u);  // "max"
  EXPECT_EQ(s.swap_current, 8192u);
  EXPECT_EQ(s.swap_max, 1048576u);
  EXPECT_EQ(s.memory_events.low, 1u);
  EXPECT_EQ(s.memory_events.high, 2u);
  EXPECT_EQ(s.memory_events.max, 3u);
  EXPECT_EQ(s.memory_events.oom, 4u);
  EXPECT_EQ(s.memory_events.oom_kill, 5u);
  EXPECT_EQ(s.oom_kills, 5u);
  EXPECT_EQ(cg.oom_kills(), 5u);

  put("memory.swap.max", "max\n");
  fs::remove(cg.dir() + "/memory.events");
  s = cg.stats();
  EXPECT_EQ(s.swap_max, 0u);  // unlimited
  EXPECT_EQ(s.memory_events.oom_kill, 0u);
  EXPECT_EQ(s.memory_events.low, 0u);
  fs::remove_all(root);
}

TEST(AgentUserLookup, FindsNamesInPasswd) {
  std::string passwd =
      "root:x:0:0:root:/root:/bin/sh\n# comment\nbroken\nweb:x:33:44::/:/bin/false\n";
  auto web = find_passwd_entry(passwd, "web");
  ASSERT_TRUE(web);
  EXPECT_EQ(web->uid, 33u);
  EXPECT_EQ(web->gid, 44u);
  EXPECT_FALSE(find_passwd_entry(passwd, "nobody"));
  EXPECT_FALSE(find_passwd_entry(passwd, "broken"));
}

class AgentSafePath : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-safe-path-XXXXXX";
    base_ = ::mkdtemp(tmpl);
    root_ = base_ + "/root";
    fs::create_directories(root_ + "/etc");
    fs::create_directories(base_ + "/outside");
    root_fd_ = ::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  }
  void TearDown() override {
    ::close(root_fd_);
    fs::remove_all(base_);
  }
  std::string base_, root_;
  int root_fd_ = -1;
};

TEST_F(AgentSafePath, CreatesMissingDirectoriesAndFiles) {
  open_in_root(root_fd_, "/a/b/c", CreateAs::directory);
  EXPECT_TRUE(fs::is_directory(root_ + "/a/b/c"));
  open_in_root(root_fd_, "/a/file", CreateAs::file);
  EXPECT_TRUE(fs::is_regular_file(root_ + "/a/file"));
  EXPECT_THROW(open_in_root(root_fd_, "/missing", CreateAs::nothing), RuntimeError);
}

TEST_F(AgentSafePath, AbsoluteAndRelativeSymlinksStayInside) {
  fs::create_symlink(base_ + "/outside", root_ + "/abs");  // absolute: means <root><base>/outside
  fs::create_symlink("../../../../../../outside",
                     root_ + "/rel");  // climbs to the root and no further
  open_in_root(root_fd_, "/abs/x", CreateAs::directory);
  open_in_root(root_fd_, "/rel/y", CreateAs::directory);
  open_in_root(root_fd_, "/../../z", CreateAs::directory);
  EXPECT_TRUE(fs::is_empty(base_ + "/outside")) << "something was created outside the root";
  EXPECT_TRUE(fs::is_directory(root_ + base_ + "/outside/x"));
  EXPECT_TRUE(fs::is_directory(root_ + "/outside/y"));
  EXPECT_TRUE(fs::is_directory(root_ + "/z"));
}

TEST_F(AgentSafePath, SymlinkLoopsAreRefused) {
  fs::create_symlink("/loop2", root_ + "/loop1");
  fs::create_symlink("/loop1", root_ + "/loop2");
  try {
    open_in_root(root_fd_, "/loop1/x", CreateAs::directory);
    FAIL() << "a symlink loop must not resolve";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("too many symlinks"), std::string::npos) << e.what();
  }
}

TEST_F(AgentSafePath, ReadsPasswdThroughTheRoot) {
  std::ofstream(root_ + "/etc/passwd") << "app:x:1234:5678::/:/bin/sh\n";
  PasswdEntry e = lookup_user(root_, "app");
  EXPECT_EQ(e.uid, 1234u);
  EXPECT_EQ(e.gid, 5678u);
  try {
    lookup_user(root_, "ghost");
    FAIL();
  } catch (const RuntimeError& err) {
    EXPECT_EQ(err.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(std::string(err.what()).find("no user \"ghost\""), std::string::npos);
  }
}

TEST(AgentReaper, KeepsStatusesForRegisteredChildrenOnly) {
  Reaper reaper;
  pid_t a, b;
  {
    auto held = reaper.lock();
    a = ::fork();
    if (a == 0) ::_exit(7);
    reaper.expect(a, held);
  }
  {
    auto held = reaper.lock();
    b = ::fork();
    if (b == 0) {
      ::kill(::getpid(), SIGKILL);
      ::_exit(0);
    }
    reaper.expect(b, held);
  }
  EXPECT_EQ(reaper.wait(a).code, 7);
  EXPECT_EQ(reaper.wait(a).code, 7) << "a second waiter sees the same status";
  ExitStatus sb = reaper.wait(b);
  EXPECT_EQ(sb.code, 128 + SIGKILL);
  EXPECT_EQ(sb.signal, SIGKILL);
  reaper.forget(a);
  EXPECT_FALSE(reaper.poll(a));
  EXPECT_FALSE(reaper.wait_for(999999, 10));
}

}  // namespace
}  // namespace hull::runtime
