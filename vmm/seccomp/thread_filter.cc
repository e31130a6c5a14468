#include "seccomp/thread_filter.h"

#include <linux/fs.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <termios.h>

#include <cstring>
#include <memory>

namespace hull::vmm::seccomp {
namespace {

// What every thread needs to run C++ at all: memory, locks, signals of the
// vCPU kick, clocks, logging through stdio/spdlog, thread and process exit
// (a thread that ends unmaps its stack; abort() raises with tgkill).
const std::vector<std::string>& CommonSyscalls() {
  static const std::vector<std::string> kCommon = {
      "brk",          "mmap",         "munmap",          "mprotect",      "madvise",
      "mremap",       "futex",        "rt_sigreturn",    "rt_sigprocmask", "restart_syscall",
      "rseq",         "set_robust_list", "sched_yield",  "clock_gettime", "clock_nanosleep",
      "nanosleep",    "gettimeofday", "getpid",          "gettid",        "tgkill",
      "read",         "write",        "readv",           "writev",        "close",
      "fstat",        "newfstatat",   "lseek",           "getrandom",     "exit",
      "exit_group",
  };
  return kCommon;
}

void Append(std::vector<std::string>& to, std::initializer_list<const char*> names) {
  for (const char* n : names) to.emplace_back(n);
}

// Frees the libseccomp context on every path.
struct ContextDeleter {
  void operator()(void* ctx) const { seccomp_release(static_cast<scmp_filter_ctx>(ctx)); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

std::string Where(ThreadKind kind) { return std::string("seccomp filter of the ") + ThreadKindName(kind) + " thread"; }

Context Build(ThreadKind kind) {
  Context ctx(seccomp_init(SCMP_ACT_KILL_PROCESS));
  if (!ctx) throw SeccompError(Where(kind) + ": seccomp_init failed: this kernel (or an emulator such as qemu-user) offers no seccomp filters; run with --no-seccomp");
  const Allowlist list = AllowlistFor(kind);
  for (const auto& name : list.syscalls) {
    const int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) continue;  // not a system call on this architecture
    const int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, nr, 0);
    if (rc != 0)
      throw SeccompError(Where(kind) + ": allowing " + name + ": " + std::strerror(-rc));
  }
  for (uint64_t request : list.ioctls) {
    // The kernel takes ioctl's request as a 32-bit int: compare the low half.
    const int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                    SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xffffffffULL, request));
    if (rc != 0)
      throw SeccompError(Where(kind) + ": allowing ioctl " + std::to_string(request) + ": " +
                         std::strerror(-rc));
  }
  return ctx;
}

}  // namespace

const char* ThreadKindName(ThreadKind kind) {
  switch (kind) {
    case ThreadKind::kVcpu:
      return "vCPU";
    case ThreadKind::kIo:
      return "I/O";
    case ThreadKind::kApi:
      return "API";
    case ThreadKind::kFs:
      return "virtio-fs";
    case ThreadKind::kBlockWorker:
      return "disk worker";
  }
  return "unknown";
}

Allowlist AllowlistFor(ThreadKind kind) {
  Allowlist list;
  list.syscalls = CommonSyscalls();
  switch (kind) {
    case ThreadKind::kVcpu:
      // Device registers run here: eventfd signals (irqfd, doorbells), a
      // device activated by the driver registers its fds with the I/O loop,
      // a stop is posted to the main loop (Asio re-arms its epoll); a
      // virtio-net the driver activates sets the tap's offloads.
      Append(list.syscalls, {"epoll_ctl"});
      list.ioctls = {KVM_RUN, KVM_IRQ_LINE, TUNSETOFFLOAD};
      break;
    case ThreadKind::kIo:
      // epoll loop; vsock: accept host connections, connect to <uds>_<port>
      // for guest-initiated ones; tap and socket traffic; disk completions.
      Append(list.syscalls,
             {"epoll_wait", "epoll_pwait", "epoll_ctl", "accept4", "socket", "connect",
              "sendto", "recvfrom", "sendmsg", "recvmsg", "shutdown", "fcntl", "getsockopt",
              "setsockopt", "pread64", "pwrite64", "preadv", "pwritev", "fdatasync", "fsync",
              "fallocate"});
      list.ioctls = {KVM_IRQ_LINE, FIONBIO, FIONREAD};
      break;
    case ThreadKind::kApi:
      // The Asio loop: API connections, signals, console input; PATCH
      // /drives opens a new image; metrics append to a file and read
      // /proc/self; on exit the threads are kicked and joined, guest memory
      // unmapped, the API socket unlinked and the terminal restored.
      Append(list.syscalls,
             {"epoll_wait", "epoll_pwait", "epoll_ctl", "accept4", "accept", "sendto",
              "recvfrom", "sendmsg", "recvmsg", "shutdown", "fcntl", "getsockopt", "setsockopt",
              "getsockname", "getpeername", "open", "openat", "statx", "stat", "unlink",
              "unlinkat", "mincore", "sysinfo", "rt_sigaction", "timerfd_settime", "pread64",
              "fdatasync", "fsync", "dup", "ppoll", "poll"});
      list.ioctls = {KVM_IRQ_LINE, FIONBIO, FIONREAD, TCGETS, TCSETS, TCSETSW, TCSETSF,
                     TIOCGWINSZ, BLKGETSIZE64};
      break;
    case ThreadKind::kFs:
      // The event loop (doorbells, interrupts) and what vmm/fuse's
      // PassthroughFs calls: every path operation is an *at() call relative
      // to an fd the share's table holds (openat2 for lookups and creates,
      // openat on /proc/self/fd to reopen an inode; glibc's renameat2 with
      // no flags is the renameat call, READ lands in guest memory by preadv).
      Append(list.syscalls,
             {"epoll_wait", "epoll_pwait", "epoll_ctl", "openat", "openat2", "statx", "fstatfs",
              "getdents64", "pread64", "preadv", "pwrite64", "ftruncate", "fallocate", "fsync", "fdatasync",
              "fchmodat", "fchownat", "utimensat", "mkdirat", "mknodat", "unlinkat", "renameat", "renameat2",
              "linkat", "symlinkat", "readlinkat", "geteuid", "fcntl"});
      list.ioctls = {KVM_IRQ_LINE};
      break;
    case ThreadKind::kBlockWorker:
      // vmm/devices/virtio DiskImage on a worker: the data moves by
      // preadv/pwritev, flush is fdatasync, discard and write-zeroes are
      // fallocate; the completion rings the I/O thread's eventfd (write).
      Append(list.syscalls, {"pread64", "pwrite64", "preadv", "pwritev", "fdatasync", "fsync", "fallocate"});
      break;
  }
  return list;
}

void CheckFilterBuilds(ThreadKind kind) { Build(kind); }

void InstallThreadFilter(ThreadKind kind) {
  Context ctx = Build(kind);
  // no_new_privs lets an unprivileged process load a filter; libseccomp sets
  // it by default (SCMP_FLTATR_CTL_NNP). TSYNC stays off: this thread only.
  const int rc = seccomp_load(ctx.get());
  if (rc != 0) throw SeccompError(Where(kind) + ": loading it failed: " + std::strerror(-rc));
}

}  // namespace hull::vmm::seccomp
