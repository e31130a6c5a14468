#include "jailer/jail_runner.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "jailer/cgroup_limits.h"
#include "jailer/jail_layout.h"
#include "jailer/jail_tree.h"
#include "jailer/jailer_error.h"
#include "jailer/pivot_root_jail.h"
#include "jailer/privileges.h"
#include "jailer/safe_remove.h"
#include "jailer/shared_libraries.h"
#include "jailer/tap_owner.h"

namespace hull::vmm::jailer {
namespace fs = std::filesystem;

namespace {

// Undoes the host-side work if the jailer fails before it leaves the host's view.
class Rollback {
 public:
  Rollback(const JailLayout& layout, const JailOptions& options) : layout_(layout), options_(options) {}
  ~Rollback() {
    if (!armed_) return;
    if (in_cgroup_) {
      // Back to the hierarchy's root so the VM's cgroup can be removed.
      const fs::path& root = options_.cgroup_root;
      const std::string pid = std::to_string(::getpid());
      if (DetectCgroupVersion(root) == CgroupVersion::kV2) {
        std::ofstream(root / "cgroup.procs") << pid;
      } else {
        for (const char* c : {"cpu", "memory", "pids"}) std::ofstream(root / c / "cgroup.procs") << pid;
      }
    }
    try {
      if (in_cgroup_) RemoveCgroup(options_.cgroup_root, layout_.CgroupPath());
      if (made_dir_) RemoveTreeOnOneFileSystem(layout_.jail_dir());
    } catch (const JailerError&) {
      // Best effort: the first error is the one reported.
    }
  }
  void MadeDir() { made_dir_ = true; }
  void JoinedCgroup() { in_cgroup_ = true; }
  void Disarm() { armed_ = false; }

 private:
  const JailLayout& layout_;
  const JailOptions& options_;
  bool armed_ = true;
  bool made_dir_ = false;
  bool in_cgroup_ = false;
};

bool HostHas(const char* node) { return ::access(node, F_OK) == 0; }

}  // namespace

void ExecInJail(const JailOptions& options) {
  ValidateForStart(options);
  const JailLayout layout(options.chroot_base, options.exec_file, options.id);
  // Everything the VMM's exec needs, and the files it was told about.
  std::vector<fs::path> files = {options.exec_file};
  for (const auto& lib : SharedLibrariesOf(options.exec_file)) files.push_back(lib);
  files.insert(files.end(), options.files.begin(), options.files.end());
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());

  int netns = -1;
  if (!options.netns.empty()) {
    netns = ::open(options.netns.c_str(), O_RDONLY | O_CLOEXEC);
    if (netns < 0) throw JailerError::FromErrno("cannot open the network namespace " + options.netns.string(), errno);
  }

  Rollback rollback(layout, options);
  CreateJailDir(layout);
  rollback.MadeDir();
  for (const auto& f : files) CreatePlaceholder(layout, f);
  CreateDeviceNode(layout, "/dev/kvm", options.uid, options.gid);
  if (!options.taps.empty() || HostHas("/dev/net/tun")) {
    CreateDeviceNode(layout, "/dev/net/tun", options.uid, options.gid);
  }
  for (const auto& d : options.socket_dirs) CreateOwnedDir(layout, d, options.uid, options.gid);
  for (const auto& d : options.share_dirs) CreateMountPointDir(layout, d);
  if (!options.share_dirs.empty()) CreateMountPointDir(layout, "/proc/self/fd");

  if (options.limits.any()) {
    rollback.JoinedCgroup();  // set first: a half-made cgroup is removed too
    JoinLimitedCgroup(options.cgroup_root, layout.CgroupPath(), options.limits, ::getpid());
  }
  if (netns >= 0) {
    const int joined = ::setns(netns, CLONE_NEWNET);
    const int err = errno;
    ::close(netns);
    if (joined != 0) throw JailerError::FromErrno("setns into " + options.netns.string(), err);
  }
  for (const auto& tap : options.taps) HandTapTo(tap, options.uid, options.gid);

  const pid_t parent = ::getppid();
  EnterJail(layout, files, options.share_dirs);
  rollback.Disarm();  // the host's tree is out of sight now: CleanUpJail's job

  if (options.nofile) SetOpenFileLimit(*options.nofile);
  DropPrivileges(options.uid, options.gid,
                 options.share_dirs.empty() ? std::vector<int>{} : ShareCapabilities());
  if (options.die_with_parent) {
    // A credential change clears the parent-death signal: set it again.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) throw JailerError("the jailer's parent exited");
  }
  std::vector<std::string> args = {options.exec_file.string()};
  args.insert(args.end(), options.exec_args.begin(), options.exec_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // Only stdin/stdout/stderr go on to the VMM.
  ::syscall(SYS_close_range, 3u, ~0u, 0u);
  ::execv(argv[0], argv.data());
  throw JailerError::FromErrno("exec " + options.exec_file.string() + " in the jail", errno);
}

void CleanUpJail(const fs::path& chroot_base, const fs::path& exec_file, const std::string& id,
                 const fs::path& cgroup_root) {
  const JailLayout layout(chroot_base, exec_file, id);
  RemoveCgroup(cgroup_root, layout.CgroupPath());
  RemoveTreeOnOneFileSystem(layout.jail_dir());
}

}  // namespace hull::vmm::jailer
