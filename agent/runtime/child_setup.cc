#include "runtime/child_setup.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "runtime/error.h"
#include "runtime/files.h"
#include "runtime/hooks.h"
#include "runtime/mount_options.h"
#include "runtime/safe_path.h"

extern char** environ;

namespace hull::runtime::child {
namespace {

void sys_mount(const std::string& source, const std::string& target, const char* type,
               unsigned long flags, const std::string& data, const std::string& what) {
  if (::mount(source.empty() ? nullptr : source.c_str(), target.c_str(), type, flags,
              data.empty() ? nullptr : data.c_str()) != 0)
    throw_errno("mounting " + what);
}

// MS_* flags a bind remount must keep (the kernel refuses to drop locked ones).
unsigned long current_mount_flags(int fd) {
  struct statvfs sv {};
  if (::fstatvfs(fd, &sv) != 0) return 0;
  unsigned long f = 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
  return f;
}

void remount_bind(int root_fd, const std::string& dest, unsigned long add_flags) {
  UniqueFd fd = open_in_root(root_fd, dest, CreateAs::nothing);  // now the new mount
  sys_mount("", fd_path(fd.get()), nullptr,
            MS_REMOUNT | MS_BIND | current_mount_flags(fd.get()) | add_flags, "",
            dest + " (read-only remount)");
}

void mount_one(int root_fd, const oci::Mount& m) {
  MountOptions opts = parse_mount_options(m.options);
  bool bind = opts.bind() || m.type == "bind";
  CreateAs create = CreateAs::directory;
  if (bind) {
    struct stat st {};
    if (::stat(m.source.c_str(), &st) != 0)
      throw_errno("bind mount source " + m.source + " for " + m.destination);
    if (!S_ISDIR(st.st_mode)) create = CreateAs::file;
  }
  UniqueFd target = open_in_root(root_fd, m.destination, create);
  std::string where = m.destination;
  if (bind) {
    sys_mount(m.source, fd_path(target.get()), nullptr, MS_BIND | (opts.flags & MS_REC), "", where);
    unsigned long extra = opts.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
    if (extra) remount_bind(root_fd, m.destination, extra);
  } else {
    std::string type = m.type == "cgroup" ? "cgroup2" : m.type;  // hull is cgroup v2 only
    std::string source = m.source.empty() || type == "cgroup2" ? type : m.source;
    sys_mount(source, fd_path(target.get()), type.c_str(), opts.flags & ~MS_REMOUNT, opts.data,
              type + " on " + where);
  }
  if (opts.propagation) {
    UniqueFd fd = open_in_root(root_fd, m.destination, CreateAs::nothing);
    sys_mount("", fd_path(fd.get()), nullptr, opts.propagation, "", "propagation of " + where);
  }
}

bool mounts_dev_tmpfs(const oci::Spec& spec) {
  for (const auto& m : spec.mounts)
    if (m.destination == "/dev" && m.type != "bind" && !parse_mount_options(m.options).bind())
      return true;
  return false;
}

// /dev/null and friends: device nodes as runc makes them, or bind mounts of
// the agent's where mknod is not allowed (user namespaces). Plus the symlinks.
void default_devices(int root_fd) {
  UniqueFd dev = open_in_root(root_fd, "/dev", CreateAs::directory);
  for (const char* name : {"null", "zero", "full", "random", "urandom", "tty"}) {
    std::string host = std::string("/dev/") + name;
    struct stat st {};
    if (::stat(host.c_str(), &st) != 0) continue;
    if (::mknodat(dev.get(), name, S_IFCHR | 0666, st.st_rdev) == 0) {
      ::fchmodat(dev.get(), name, 0666, 0);  // umask must not narrow it
      continue;
    }
    if (errno != EPERM) throw_errno("creating " + host + " in the container");
    UniqueFd target = open_in_root(root_fd, host, CreateAs::file);
    sys_mount(host, fd_path(target.get()), nullptr, MS_BIND, "", host);
  }
  const std::pair<const char*, const char*> links[] = {{"/proc/self/fd", "fd"},
                                                       {"/proc/self/fd/0", "stdin"},
                                                       {"/proc/self/fd/1", "stdout"},
                                                       {"/proc/self/fd/2", "stderr"},
                                                       {"pts/ptmx", "ptmx"}};
  for (const auto& [to, name] : links)
    if (::symlinkat(to, dev.get(), name) != 0 && errno != EEXIST)
      throw_errno(std::string("creating /dev/") + name);
}

void spec_devices(int root_fd, const oci::Spec& spec) {
  for (const auto& d : spec.linux.devices) {
    std::string path = d.path;
    size_t slash = path.rfind('/');
    UniqueFd dir =
        open_in_root(root_fd, path.substr(0, slash == 0 ? 1 : slash), CreateAs::directory);
    std::string name = path.substr(slash + 1);
    mode_t type = d.type == 'b' ? S_IFBLK : d.type == 'p' ? S_IFIFO : S_IFCHR;
    mode_t mode = (d.file_mode.value_or(0666) & 07777) | type;
    // O_PATH dirfd: go through its /proc/self/fd name for mknod.
    std::string full = fd_path(dir.get()) + "/" + name;
    ::unlink(full.c_str());
    if (::mknod(full.c_str(), mode, makedev(d.major, d.minor)) != 0)
      throw_errno("creating device " + d.path);
    if ((d.uid || d.gid) && ::chown(full.c_str(), d.uid.value_or(0), d.gid.value_or(0)) != 0)
      throw_errno("chown of device " + d.path);
  }
}

unsigned long propagation_of(const std::string& p) {
  if (p.empty()) return MS_SLAVE | MS_REC;
  unsigned long f = parse_mount_options({p}).propagation;
  return f ? f : MS_SLAVE | MS_REC;
}

void pivot_into(int root_fd) {
  if (::fchdir(root_fd) != 0) throw_errno("chdir into the rootfs");
  if (::syscall(SYS_pivot_root, ".", ".") != 0)
    throw_errno("pivot_root (the agent's own root must be a real mount, not the initramfs)");
  // The old root now sits on top of the new one: detach it.
  if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0)
    throw_errno("making the old root a slave");
  if (::umount2(".", MNT_DETACH) != 0) throw_errno("detaching the old root");
  if (::chdir("/") != 0) throw_errno("chdir /");
}

void mask_and_protect(const oci::Spec& spec) {
  UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  for (const std::string& p : spec.linux.masked_paths) {
    UniqueFd fd;
    try {
      fd = open_in_root(root.get(), p, CreateAs::nothing);
    } catch (const RuntimeError&) {
      continue;  // nothing there to mask
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode))
      sys_mount("tmpfs", fd_path(fd.get()), "tmpfs", MS_RDONLY, "", "tmpfs mask on " + p);
    else
      sys_mount("/dev/null", fd_path(fd.get()), nullptr, MS_BIND, "", "/dev/null mask on " + p);
  }
  for (const std::string& p : spec.linux.readonly_paths) {
    UniqueFd fd;
    try {
      fd = open_in_root(root.get(), p, CreateAs::nothing);
    } catch (const RuntimeError&) {
      continue;
    }
    sys_mount(fd_path(fd.get()), fd_path(fd.get()), nullptr, MS_BIND | MS_REC, "",
              "read-only bind of " + p);
    remount_bind(root.get(), p, MS_RDONLY);
  }
}

void apply_sysctl(const oci::Spec& spec) {
  for (const auto& [name, value] : spec.linux.sysctl) {
    std::string path = "/proc/sys/" + name;
    for (size_t i = 10; i < path.size(); ++i)
      if (path[i] == '.') path[i] = '/';
    try {
      write_file(path, value);
    } catch (const RuntimeError& e) {
      throw RuntimeError(ErrorKind::invalid_argument, "linux.sysctl." + name + ": " + e.what());
    }
  }
}

void drop_bounding_set(const oci::Capabilities& caps) {
  for (int c = 0; c <= CAP_LAST_CAP; ++c) {
    bool keep = false;
    for (int k : caps.bounding) keep = keep || k == c;
    if (keep) continue;
    if (::prctl(PR_CAPBSET_READ, c, 0, 0, 0) <= 0) continue;  // unknown to this kernel or gone
    if (::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0)
      throw_errno("dropping capability " + std::to_string(c) + " from the bounding set");
  }
}

void set_capabilities(const oci::Capabilities& caps) {
  cap_t c = cap_init();
  if (!c) throw_errno("cap_init");
  auto set = [&](cap_flag_t flag, const std::vector<int>& list) {
    for (int v : list) {
      cap_value_t value = v;
      if (v > CAP_LAST_CAP) continue;
      cap_set_flag(c, flag, 1, &value, CAP_SET);
    }
  };
  set(CAP_EFFECTIVE, caps.effective);
  set(CAP_PERMITTED, caps.permitted);
  set(CAP_INHERITABLE, caps.inheritable);
  int rc = cap_set_proc(c);
  int err = errno;
  cap_free(c);
  if (rc != 0) throw_errno("setting capabilities (effective must be a subset of permitted)", err);
  // As runc does, an ambient capability that is not also permitted and
  // inheritable is skipped (runc spec's default lists ambient without inheritable).
  for (int v : caps.ambient)
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, v, 0, 0) != 0 && errno != EPERM)
      throw_errno("raising ambient capability " + std::to_string(v));
}

void load_seccomp(const LaunchPlan& plan) {
  if (!plan.seccomp) return;
  if (int err = plan.seccomp->load()) throw_errno("loading the seccomp filter", err);
}

}  // namespace

void setup_rootfs(const RootfsPlan& plan) {
  const oci::Spec& spec = *plan.spec;
  if (::mount(nullptr, "/", nullptr, propagation_of(spec.linux.rootfs_propagation), nullptr) != 0)
    throw_errno("setting the propagation of /");
  sys_mount(plan.rootfs, plan.rootfs, nullptr, MS_BIND | MS_REC, "", "the rootfs onto itself");
  UniqueFd root(::open(plan.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) throw_errno("opening the rootfs " + plan.rootfs);
  for (const auto& m : spec.mounts) mount_one(root.get(), m);
  if (mounts_dev_tmpfs(spec)) default_devices(root.get());
  spec_devices(root.get(), spec);
  // cwd exists before the user switch, as runc makes sure.
  open_in_root(root.get(), spec.process.cwd, CreateAs::directory);
  run_hooks_in_child(spec.hooks.create_container, plan.hook_state, "createContainer");
  pivot_into(root.get());
  apply_sysctl(spec);  // before readonlyPaths makes /proc/sys read-only (runc's order)
  mask_and_protect(spec);
  if (spec.root_readonly) {
    UniqueFd r(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    sys_mount("", "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | current_mount_flags(r.get()), "",
              "/ read-only");
  }
}

void setup_stdio(const LaunchPlan& plan) {
  if (plan.setsid && ::setsid() < 0) throw_errno("setsid");
  if (plan.stdio.terminal && ::ioctl(plan.stdio.err.get(), TIOCSCTTY, 0) != 0)
    throw_errno("TIOCSCTTY");
  if (::dup2(plan.stdio.in.get(), 0) < 0 || ::dup2(plan.stdio.out.get(), 1) < 0 ||
      ::dup2(plan.stdio.err.get(), 2) < 0)
    throw_errno("dup2 of stdio");
}

void finish_and_exec(const LaunchPlan& plan) {
  const oci::Process& p = plan.process;
  if (plan.rootfs) {
    HookState state = plan.rootfs->hook_state;
    state.status = "created";
    run_hooks_in_child(plan.rootfs->spec->hooks.start_container, state, "startContainer");
  }
  for (const auto& rl : p.rlimits) {
    rlimit r{rl.soft, rl.hard};
    if (::setrlimit(rl.resource, &r) != 0) throw_errno("setrlimit " + std::to_string(rl.resource));
  }
  if (p.oom_score_adj) write_file("/proc/self/oom_score_adj", std::to_string(*p.oom_score_adj));
  ::umask(p.user.umask.value_or(022));
  oci::Capabilities caps = p.capabilities.value_or(oci::Capabilities{});
  drop_bounding_set(caps);
  if (!p.no_new_privileges) load_seccomp(plan);  // needs CAP_SYS_ADMIN: before the drop

  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) throw_errno("PR_SET_KEEPCAPS");
  std::vector<gid_t> groups(p.user.additional_gids.begin(), p.user.additional_gids.end());
  if (::setgroups(groups.size(), groups.data()) != 0)
    throw_errno("setgroups (process.user.additionalGids)");
  if (::setresgid(plan.gid, plan.gid, plan.gid) != 0)
    throw_errno("setresgid(" + std::to_string(plan.gid) + ") for process.user.gid");
  if (::setresuid(plan.uid, plan.uid, plan.uid) != 0)
    throw_errno("setresuid(" + std::to_string(plan.uid) + ") for process.user.uid");
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) throw_errno("PR_SET_KEEPCAPS");
  set_capabilities(caps);
  if (p.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    throw_errno("PR_SET_NO_NEW_PRIVS");
  if (::chdir(p.cwd.c_str()) != 0) throw_errno("chdir to process.cwd " + p.cwd);

  // The agent ignores SIGPIPE and blocks nothing the program should inherit.
  for (int s = 1; s < NSIG; ++s) ::signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  std::vector<char*> argv, envp;
  for (const auto& a : p.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : p.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  environ = envp.data();  // execvp searches the container's PATH
  if (p.no_new_privileges) load_seccomp(plan);
  ::execvp(argv[0], argv.data());
  int err = errno;
  throw RuntimeError(
      err == ENOENT || err == EACCES ? ErrorKind::invalid_argument : ErrorKind::internal,
      "exec of process.args[0] \"" + p.args[0] + "\": " + std::strerror(err) +
          (p.args[0].find('/') == std::string::npos ? " (searched PATH from process.env)" : ""));
}

}  // namespace hull::runtime::child
