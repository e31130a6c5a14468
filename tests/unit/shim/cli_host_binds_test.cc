// Host bind mounts of a CLI-created container become copies on a guest disk.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sandbox/host_binds.h"
#include "sandbox/sandbox_error.h"

namespace hull::shim {
namespace {
namespace fs = std::filesystem;

class HostBindsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-binds-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(HostBindsTest, FilesAndDirectoriesAreCopiedAndRepointed) {
  std::ofstream(dir_ / "hosts") << "127.0.0.1 localhost\n";
  fs::create_directories(dir_ / "vol" / "sub");
  std::ofstream(dir_ / "vol" / "sub" / "f") << "data";
  nlohmann::json config = {
      {"mounts",
       {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
        {{"destination", "/etc/hosts"}, {"type", "bind"}, {"source", (dir_ / "hosts").string()},
         {"options", {"rbind", "rw"}}},
        {{"destination", "/data"}, {"source", (dir_ / "vol").string()}, {"options", {"bind"}}}}}};
  const fs::path staging = dir_ / "staging";
  EXPECT_EQ(StageHostBinds(config, staging), 2);
  EXPECT_EQ(config["mounts"][0]["source"], "proc");  // not a bind: untouched
  EXPECT_EQ(config["mounts"][1]["source"], std::string(kGuestBindsDir) + "/0");
  EXPECT_EQ(config["mounts"][2]["source"], std::string(kGuestBindsDir) + "/1");
  std::ifstream hosts(staging / "0");
  std::string line;
  std::getline(hosts, line);
  EXPECT_EQ(line, "127.0.0.1 localhost");
  EXPECT_TRUE(fs::is_regular_file(staging / "1" / "sub" / "f"));
}

TEST_F(HostBindsTest, ShmBecomesAPrivateTmpfs) {
  nlohmann::json config = {{"mounts",
                            {{{"destination", "/dev/shm"}, {"type", "bind"},
                              {"source", "/var/lib/containers/x/shm"}, {"options", {"bind"}}}}}};
  EXPECT_EQ(StageHostBinds(config, dir_ / "staging"), 0);
  EXPECT_EQ(config["mounts"][0]["type"], "tmpfs");
  EXPECT_FALSE(fs::exists(dir_ / "staging"));
}

TEST_F(HostBindsTest, MissingSourceIsNamed) {
  nlohmann::json config = {{"mounts",
                            {{{"destination", "/x"}, {"type", "bind"}, {"source", "/no/such/src"}}}}};
  try {
    StageHostBinds(config, dir_ / "staging");
    FAIL();
  } catch (const SandboxError& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such/src"), std::string::npos);
  }
}

TEST_F(HostBindsTest, NoMountsNoDisk) {
  nlohmann::json config = {{"process", {{"args", {"sh"}}}}};
  EXPECT_EQ(StageHostBinds(config, dir_ / "staging"), 0);
}

}  // namespace
}  // namespace hull::shim
