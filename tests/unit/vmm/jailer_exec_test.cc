// The whole jailer on a real program (sleep): root, pivot_root, uid drop,
// capabilities, no_new_privs, then --cleanup. Needs root and a /dev/kvm to
// mirror; skipped (with the reason) otherwise. The VMM itself under the
// jailer is tested end to end in tests/e2e/vmm_x86 (case jailer).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "jailer/jail_runner.h"
#include "jailer/jailer_error.h"

namespace hull::vmm::jailer {
namespace {
namespace fs = std::filesystem;

std::string StatusField(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) {
      const auto v = line.substr(field.size() + 1);
      const auto start = v.find_first_not_of(" \t");
      return start == std::string::npos ? std::string() : v.substr(start);
    }
  }
  return "";
}

TEST(JailerExec, ConfinesTheProgramAndCleansUp) {
  if (::geteuid() != 0) GTEST_SKIP() << "the jailer needs root (mount namespace, mknod, setuid)";
  if (!fs::exists("/dev/kvm")) GTEST_SKIP() << "this host has no /dev/kvm for the jail to mirror";
  const fs::path sleep_bin = fs::exists("/usr/bin/sleep") ? "/usr/bin/sleep" : "/bin/sleep";
  const fs::path base = fs::temp_directory_path() / ("jailer-exec-" + std::to_string(::getpid()));
  const fs::path file = fs::temp_directory_path() / ("jailer-exec-file-" + std::to_string(::getpid()));
  std::ofstream(file) << "kernel";
  JailOptions o;
  o.id = "vm-exec-test";
  o.exec_file = sleep_bin;
  o.exec_args = {"30"};
  o.uid = 0x70000001;
  o.gid = 0x70000002;
  o.uid_given = o.gid_given = true;
  o.chroot_base = base;
  o.files = {file};
  o.socket_dirs = {"/run/vm-exec-test"};
  o.cgroup_root = base / "no-cgroup";  // no limits: never touched

  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    try {
      ExecInJail(o);
    } catch (const JailerError& e) {
      std::fprintf(stderr, "jailer: %s\n", e.what());
    }
    ::_exit(99);
  }
  // Wait for the exec: then /proc/PID/exe is sleep.
  bool execed = false;
  for (int i = 0; i < 500 && !execed; ++i) {
    std::error_code ec;
    execed = fs::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec).filename() == sleep_bin.filename();
    int status = 0;
    if (!execed && ::waitpid(pid, &status, WNOHANG) == pid) FAIL() << "the jailer exited before exec";
    if (!execed) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  struct Reaper {  // the jailed sleep and its jail go, whatever fails below
    pid_t pid;
    fs::path base, file;
    ~Reaper() {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      try {
        CleanUpJail(base, "/usr/bin/sleep", "vm-exec-test", base / "no-cgroup");
      } catch (const JailerError&) {
      }
      std::error_code ec;
      fs::remove_all(base, ec);
      fs::remove(file, ec);
    }
  } reaper{pid, base, file};
  ASSERT_TRUE(execed);
  EXPECT_EQ(StatusField(pid, "Uid"), "1879048193\t1879048193\t1879048193\t1879048193");
  EXPECT_EQ(StatusField(pid, "Gid"), "1879048194\t1879048194\t1879048194\t1879048194");
  EXPECT_EQ(StatusField(pid, "CapEff"), "0000000000000000");
  EXPECT_EQ(StatusField(pid, "CapPrm"), "0000000000000000");
  EXPECT_EQ(StatusField(pid, "CapBnd"), "0000000000000000");
  EXPECT_EQ(StatusField(pid, "NoNewPrivs"), "1");
  EXPECT_EQ(StatusField(pid, "Groups"), "");
  // Its root is the jail: the mirrored file and device node, nothing of the host's /etc.
  const fs::path proc_root = "/proc/" + std::to_string(pid) + "/root";
  EXPECT_TRUE(fs::exists(proc_root / "dev/kvm"));
  EXPECT_TRUE(fs::exists(proc_root / file.relative_path()));
  std::ifstream kernel(proc_root / file.relative_path());
  std::string content;
  kernel >> content;
  EXPECT_EQ(content, "kernel");  // bind-mounted, so it is the real file
  EXPECT_TRUE(fs::is_directory(proc_root / "run/vm-exec-test"));
  EXPECT_FALSE(fs::exists(proc_root / "etc"));
  // The bind mount lives in the jailed process's mount namespace only: the
  // host sees the empty placeholder.
  EXPECT_EQ(fs::file_size(base / sleep_bin.filename() / o.id / "root" / file.relative_path()), 0u);

  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  CleanUpJail(base, sleep_bin, o.id, o.cgroup_root);
  EXPECT_FALSE(fs::exists(base / sleep_bin.filename() / o.id));
  std::ifstream still(file);
  still >> content;
  EXPECT_EQ(content, "kernel");  // cleanup removed the placeholder, not the file
}

TEST(JailerExec, ARootUidIsRefusedBeforeAnythingIsCreated) {
  JailOptions o;
  o.id = "vm-root";
  o.exec_file = "/bin/sh";
  o.uid_given = o.gid_given = true;  // uid 0, gid 0
  o.chroot_base = fs::temp_directory_path() / ("jailer-root-" + std::to_string(::getpid()));
  EXPECT_THROW(ExecInJail(o), JailerError);
  EXPECT_FALSE(fs::exists(o.chroot_base));
}

}  // namespace
}  // namespace hull::vmm::jailer
