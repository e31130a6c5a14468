// The `hull` CLI's state store: reserve/load/save/list/remove, the lock, the
// status rule (keeper gone = stopped) and runc's state JSON.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "sandbox/container_store.h"
#include "sandbox/sandbox_error.h"

namespace hull::shim {
namespace {
namespace fs = std::filesystem;

class ContainerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-store-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = fs::path(tmpl) / "root";  // does not exist yet: Reserve creates it
  }
  void TearDown() override { fs::remove_all(root_.parent_path()); }

  ContainerRecord Record(const std::string& id) {
    ContainerRecord r;
    r.id = id;
    r.bundle = "/b";
    r.rootfs = "/b/rootfs";
    r.created = "2026-01-01T00:00:00.000000001Z";
    r.owner = "root";
    r.status = "created";
    r.keeper = IdentifyProcess(::getpid()).value();
    return r;
  }

  fs::path root_;
};

TEST_F(ContainerStoreTest, ReserveSaveLoadRoundTrip) {
  ContainerStore store(root_);
  store.Reserve("c1");
  ContainerRecord r = Record("c1");
  r.annotations["a"] = "b";
  r.exit_status = 3;
  r.terminal = true;
  store.Save(r);
  const ContainerRecord back = store.Load("c1");
  EXPECT_EQ(RecordToJson(back), RecordToJson(r));
  EXPECT_FALSE(fs::exists(store.Dir("c1") / "state.json.tmp"));
  EXPECT_EQ(fs::status(store.Dir("c1")).permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST_F(ContainerStoreTest, NetworkMirrorsRoundTripForDelete) {
  ContainerStore store(root_);
  store.Reserve("c1");
  ContainerRecord r = Record("c1");
  EXPECT_FALSE(RecordToJson(r).contains("network")) << "no network, no key";
  r.netns = "/run/netns/pod";
  r.mirrors = {{"eth0", "hulltap0"}, {"eth1", "hulltap1"}};
  store.Save(r);
  const ContainerRecord back = store.Load("c1");
  EXPECT_EQ(back.netns, "/run/netns/pod");
  ASSERT_EQ(back.mirrors.size(), 2u);
  EXPECT_EQ(back.mirrors[1].first, "eth1");
  EXPECT_EQ(back.mirrors[1].second, "hulltap1");
  nlohmann::json damaged = RecordToJson(r);
  damaged["network"]["mirrors"][0].erase("tap");
  EXPECT_THROW(RecordFromJson(damaged), SandboxError);
}

TEST_F(ContainerStoreTest, DuplicateIdIsRefusedLikeRunc) {
  ContainerStore store(root_);
  store.Reserve("c1");
  try {
    store.Reserve("c1");
    FAIL() << "a second Reserve of the same id must fail";
  } catch (const SandboxError& e) {
    EXPECT_EQ(std::string(e.what()), "container with id exists: c1");
    EXPECT_EQ(e.code(), 6);
  }
}

TEST_F(ContainerStoreTest, InvalidIdsAreRefusedBeforeTouchingDisk) {
  ContainerStore store(root_);
  for (const std::string& id : std::vector<std::string>{"", "../x", "-x", "a/b", std::string(129, 'a'), "a b"}) {
    EXPECT_THROW(store.Reserve(id), SandboxError) << id;
  }
  EXPECT_FALSE(fs::exists(root_ / ".." / "x"));
  EXPECT_TRUE(IsValidContainerId("a.b_c-1"));
  EXPECT_TRUE(IsValidContainerId(std::string(128, 'a')));
}

TEST_F(ContainerStoreTest, UnknownIdSaysDoesNotExist) {
  ContainerStore store(root_);
  for (auto call : {+[](ContainerStore& s) { s.Load("nope"); },
                    +[](ContainerStore& s) { s.Lock("nope"); }}) {
    try {
      call(store);
      FAIL() << "an unknown id must fail";
    } catch (const SandboxError& e) {
      // Podman recognises a vanished container by "does not exist".
      EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
      EXPECT_EQ(e.code(), 5);
    }
  }
}

TEST_F(ContainerStoreTest, ReservedButNotSavedIsNotListed) {
  ContainerStore store(root_);
  store.Reserve("b");
  store.Reserve("a");
  store.Save(Record("b"));
  store.Save(Record("a"));
  store.Reserve("half");
  EXPECT_EQ(store.List(), (std::vector<std::string>{"a", "b"}));
  EXPECT_THROW(store.Load("half"), SandboxError);
}

TEST_F(ContainerStoreTest, RemoveLeavesNothing) {
  ContainerStore store(root_);
  store.Reserve("c1");
  store.Save(Record("c1"));
  std::ofstream(store.Dir("c1") / "vmm.log") << "x";
  store.Remove("c1");
  EXPECT_FALSE(fs::exists(store.Dir("c1")));
  EXPECT_TRUE(store.List().empty());
}

TEST_F(ContainerStoreTest, DamagedStateNamesTheFix) {
  ContainerStore store(root_);
  store.Reserve("c1");
  std::ofstream(store.Dir("c1") / "state.json") << "{not json";
  try {
    store.Load("c1");
    FAIL();
  } catch (const SandboxError& e) {
    EXPECT_NE(std::string(e.what()).find("delete --force"), std::string::npos) << e.what();
  }
  std::ofstream(store.Dir("c1") / "state.json", std::ios::trunc) << R"({"id":"c1"})";
  EXPECT_THROW(store.Load("c1"), SandboxError);
}

TEST_F(ContainerStoreTest, LockExcludesAndSurvivesTheHolderDying) {
  ContainerStore store(root_);
  store.Reserve("c1");
  store.Save(Record("c1"));
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ContainerLock lock = store.Lock("c1");
    if (::write(ready[1], "x", 1) != 1) ::_exit(1);
    ::usleep(300 * 1000);
    std::ofstream(store.Dir("c1") / "done") << "x";  // last act while holding the lock
    ::_exit(0);  // dies holding the lock: the kernel releases it
  }
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ContainerLock mine = store.Lock("c1");
  EXPECT_TRUE(mine.held());
  EXPECT_TRUE(fs::exists(store.Dir("c1") / "done")) << "got the lock while the child held it";
  ::waitpid(child, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST_F(ContainerStoreTest, LockWaiterSeesADeleteAsDoesNotExist) {
  ContainerStore store(root_);
  store.Reserve("c1");
  store.Save(Record("c1"));
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ContainerLock lock = store.Lock("c1");
    if (::write(ready[1], "x", 1) != 1) ::_exit(1);
    ::usleep(300 * 1000);
    store.Remove("c1");
    ::_exit(0);
  }
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  EXPECT_THROW(store.Lock("c1"), SandboxError);
  ::waitpid(child, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST(ContainerStatus, KeeperGoneMeansStopped) {
  ContainerRecord r;
  r.status = "running";
  r.keeper = IdentifyProcess(::getpid()).value();
  EXPECT_EQ(EffectiveStatus(r), "running");
  r.status = "paused";
  EXPECT_EQ(EffectiveStatus(r), "paused");
  // Same pid, other start time: the pid was recycled.
  r.keeper.start_time += 1;
  EXPECT_EQ(EffectiveStatus(r), "stopped");
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  r.keeper = IdentifyProcess(child).value_or(ProcessIdentity{child, 0});
  ::waitpid(child, nullptr, 0);
  r.status = "running";
  EXPECT_EQ(EffectiveStatus(r), "stopped");
}

TEST(ContainerStatus, ZombieIsNotAlive) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);  // a zombie now
  EXPECT_FALSE(IdentifyProcess(child).has_value());
  ::waitpid(child, nullptr, 0);
}

TEST(RuncState, HasRuncsFieldsAndPidZeroWhenStopped) {
  ContainerRecord r;
  r.id = "c1";
  r.bundle = "/b";
  r.rootfs = "/b/rootfs";
  r.created = "2026-01-01T00:00:00.000000001Z";
  r.owner = "root";
  r.status = "running";
  r.keeper = IdentifyProcess(::getpid()).value();
  nlohmann::json j = RuncStateJson(r);
  EXPECT_EQ(j["ociVersion"], "1.0.2");
  EXPECT_EQ(j["id"], "c1");
  EXPECT_EQ(j["pid"], ::getpid());
  EXPECT_EQ(j["status"], "running");
  EXPECT_EQ(j["bundle"], "/b");
  EXPECT_EQ(j["rootfs"], "/b/rootfs");
  EXPECT_EQ(j["created"], "2026-01-01T00:00:00.000000001Z");
  EXPECT_EQ(j["owner"], "root");
  EXPECT_FALSE(j.contains("annotations"));  // omitted when empty, as runc does
  r.annotations["k"] = "v";
  r.status = "stopped";
  j = RuncStateJson(r);
  EXPECT_EQ(j["pid"], 0);
  EXPECT_EQ(j["status"], "stopped");
  EXPECT_EQ(j["annotations"]["k"], "v");
}

TEST(Rfc3339, NanosecondsInUtc) {
  const std::string now = NowRfc3339Nano();
  ASSERT_EQ(now.size(), 30u) << now;  // 2026-11-23T13:40:24.123456789Z
  EXPECT_EQ(now[10], 'T');
  EXPECT_EQ(now[19], '.');
  EXPECT_EQ(now.back(), 'Z');
  EXPECT_EQ(UserName(0), "root");
}

}  // namespace
}  // namespace hull::shim
