// How the shim confines hull-vmm: the environment switches, the jail id and
// uid it derives from the state directory, the jailer's inputs, and that
// every file an API request names is handed to the jail first.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>

#include "sandbox/runtime_paths.h"
#include "sandbox/sandbox_error.h"
#include "sandbox/vmm_client.h"
#include "sandbox/vmm_process.h"
#include "sandbox_fake_server.h"

namespace hull::shim {
namespace {
namespace fs = std::filesystem;

TEST(VmmConfinement, JailForRootSeccompForEveryone) {
  auto root = ConfinementFrom(0, nullptr, nullptr, nullptr);
  EXPECT_TRUE(root.jail);
  EXPECT_TRUE(root.seccomp);
  EXPECT_LT(root.fixed_uid, 0);
  auto user = ConfinementFrom(1000, nullptr, nullptr, nullptr);
  EXPECT_FALSE(user.jail);  // the jailer needs root
  EXPECT_TRUE(user.seccomp);
  EXPECT_EQ(ConfinementArgs(root), std::vector<std::string>{"--seccomp"});
}

TEST(VmmConfinement, OptOutsAndBadValues) {
  auto off = ConfinementFrom(0, "off", "0", nullptr);
  EXPECT_FALSE(off.jail);
  EXPECT_FALSE(off.seccomp);
  EXPECT_TRUE(ConfinementArgs(off).empty());
  EXPECT_TRUE(ConfinementFrom(0, "", "", "").jail);  // empty = unset
  EXPECT_THROW(ConfinementFrom(0, "maybe", nullptr, nullptr), SandboxError);
  EXPECT_THROW(ConfinementFrom(1000, "on", nullptr, nullptr), SandboxError);
  EXPECT_EQ(ConfinementFrom(0, nullptr, nullptr, "4000000").fixed_uid, 4000000);
  for (const char* bad : {"0", "-5", "abc", "12x", "4294967295", "99999999999999999999"}) {
    EXPECT_THROW(ConfinementFrom(0, nullptr, nullptr, bad), SandboxError) << bad;
  }
}

TEST(VmmConfinement, WithoutAJailerBesideTheVmmTheDefaultSaysWhyItIsOff) {
  if (::geteuid() != 0) GTEST_SKIP() << "the jail is the default only for root";
  const fs::path dir = fs::temp_directory_path() / ("hull-paths-" + std::to_string(::getpid()));
  fs::create_directories(dir / "bin");
  ::unsetenv("HULL_JAILER");
  auto paths = DiscoverRuntimePaths(dir / "bin" / "hull");
  EXPECT_FALSE(paths.confinement.jail);
  EXPECT_NE(paths.confinement.note.find("hull-jailer not found"), std::string::npos) << paths.confinement.note;
  std::ofstream(dir / "bin" / "hull-jailer") << "";
  paths = DiscoverRuntimePaths(dir / "bin" / "hull");
  EXPECT_TRUE(paths.confinement.jail);
  EXPECT_TRUE(paths.confinement.note.empty());
  EXPECT_EQ(paths.jailer_binary, dir / "bin" / "hull-jailer");
  fs::remove_all(dir);
}

TEST(VmmJailIds, StablePerStateDirSafeAndDistinct) {
  const std::string a = JailIdFor("/run/hull/shim/123");
  EXPECT_EQ(a, JailIdFor("/run/hull/shim/123"));
  EXPECT_EQ(a, JailIdFor("/run/hull/shim/./123/"));  // the same directory, spelled differently
  EXPECT_NE(a, JailIdFor("/run/hull/shim/124"));
  EXPECT_EQ(a.size(), 19u);
  EXPECT_EQ(a.rfind("vm-", 0), 0u);
  EXPECT_EQ(a.find_first_not_of("vm-0123456789abcdef"), std::string::npos);
}

TEST(VmmJailIds, UidsComeFromTheUnusedRangeOnePerVm) {
  VmmConfinement c;
  std::set<uid_t> uids;
  for (int i = 0; i < 200; ++i) {
    const uid_t uid = JailUidFor("/run/hull/shim/" + std::to_string(i), c);
    EXPECT_GE(uid, 0x70000000u);
    EXPECT_LT(uid, 0x71000000u);
    uids.insert(uid);
  }
  EXPECT_EQ(uids.size(), 200u);
  c.fixed_uid = 4000000;
  EXPECT_EQ(JailUidFor("/run/hull/shim/1", c), 4000000u);
}

TEST(VmmJailIds, TheJailGetsKernelInitrdTapsAndLimits) {
  RuntimePaths r;
  r.jailer_binary = "/opt/hull/bin/hull-jailer";
  r.kernel = "/opt/hull/share/hull/x86_64/../x86_64/bzImage";
  r.initrd = "/opt/hull/share/hull/x86_64/initramfs.cpio.gz";
  EXPECT_FALSE(JailFor(r, "/run/hull/shim/1", {}, 256).has_value());  // confinement.jail off
  r.confinement.jail = true;
  auto jail = JailFor(r, "/run/hull/shim/1", {"hulltap0"}, 256);
  ASSERT_TRUE(jail.has_value());
  EXPECT_EQ(jail->id, JailIdFor("/run/hull/shim/1"));
  EXPECT_EQ(jail->uid, jail->gid);
  EXPECT_EQ(jail->files, (std::vector<fs::path>{"/opt/hull/share/hull/x86_64/bzImage",
                                                "/opt/hull/share/hull/x86_64/initramfs.cpio.gz"}));
  EXPECT_EQ(jail->taps, std::vector<std::string>{"hulltap0"});
  EXPECT_EQ(jail->memory_max, (256ull + 256) << 20);
  EXPECT_GT(jail->pids_max, 16u);
  // Inside the state directory: removing it (even after a crash) removes the jail.
  EXPECT_EQ(jail->Root(), fs::path("/run/hull/shim/1/jail/hull-vmm") / jail->id / "root");
  r.confinement.chroot_base = "/srv/jail";
  EXPECT_EQ(JailFor(r, "/run/hull/shim/1", {}, 256)->Root(), fs::path("/srv/jail/hull-vmm") / jail->id / "root");
}

TEST(VmmClientFileHook, EveryFileARequestNamesIsHandedOverFirst) {
  auto path = testing::TempPath("api");
  std::vector<std::string> requests;
  testing::FakeUnixServer server(path, [&](int fd) {
    requests.push_back(testing::FakeUnixServer::ReadUntil(fd, "}"));
    static const std::string res = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";
    (void)!::write(fd, res.data(), res.size());
  });
  VmmClient client(path);
  std::vector<fs::path> handed;
  std::vector<size_t> requests_sent_before;  // the hook runs before its request goes out
  client.SetFileHook([&](const fs::path& f) {
    handed.push_back(f);
    requests_sent_before.push_back(requests.size());
  });
  client.Put("/boot-source", {{"kernel_image_path", "/k"}, {"initrd_path", "/i"}, {"boot_args", "x"}});
  client.Patch("/drives/rootfs1", {{"drive_id", "rootfs1"}, {"path_on_host", "/state/rootfs1.erofs"}});
  client.Put("/machine-config", {{"vcpu_count", 1}});
  EXPECT_EQ(handed, (std::vector<fs::path>{"/k", "/i", "/state/rootfs1.erofs"}));
  EXPECT_EQ(requests_sent_before, (std::vector<size_t>{0, 0, 1}));
  EXPECT_EQ(requests.size(), 3u);
}

TEST(VmmClientFileHook, AFailedHandOverStopsTheRequest) {
  auto path = testing::TempPath("api");
  int connections = 0;
  testing::FakeUnixServer server(path, [&](int) { ++connections; });
  VmmClient client(path);
  client.SetFileHook([](const fs::path&) { throw SandboxError("cannot place it"); });
  EXPECT_THROW(client.Patch("/drives/x", {{"path_on_host", "/state/x.img"}}), SandboxError);
  EXPECT_EQ(connections, 0);
}

}  // namespace
}  // namespace hull::shim
