// The per-thread seccomp filters: every list builds, names real system calls,
// and a forked child that loads the real vCPU / I/O / API filter survives
// what that thread does but is killed with SIGSYS by anything else.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <functional>

#include "seccomp/thread_filter.h"

namespace hull::vmm::seccomp {
namespace {

constexpr ThreadKind kKinds[] = {ThreadKind::kVcpu, ThreadKind::kIo, ThreadKind::kApi, ThreadKind::kFs,
                                  ThreadKind::kBlockWorker};

// Runs `body` in a forked child after loading `kind`'s filter; returns the
// child's wait status. The child exits 0 when `body` returns.
int RunFiltered(ThreadKind kind, const std::function<void()>& body) {
  const pid_t pid = fork();
  if (pid == 0) {
    try {
      InstallThreadFilter(kind);
    } catch (...) {
      _exit(3);
    }
    body();
    _exit(0);
  }
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  return status;
}

// qemu-user (the arm64 unit tests run under qemu-aarch64-static) refuses
// PR_SET_SECCOMP so that the guest program cannot filter the emulator's own
// calls; a native kernel always loads the filter.
bool FiltersLoadInThisProcess() {
  // libseccomp refuses to make a filter where it finds no usable kernel
  // seccomp API (it probes the seccomp() call, which qemu-user lacks).
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);  // needs API level 3
  if (ctx == nullptr) return false;
  seccomp_release(ctx);
  return seccomp_api_get() >= 1;
}

#define SKIP_UNLESS_FILTERS_LOAD()                                                         \
  if (!FiltersLoadInThisProcess())                                                         \
  GTEST_SKIP() << "this process cannot load seccomp filters (qemu-user emulation refuses " \
                  "PR_SET_SECCOMP)"

bool KilledBySigsys(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS; }
bool ExitedZero(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

TEST(SeccompThreadFilter, EveryThreadKindsFilterBuilds) {
  SKIP_UNLESS_FILTERS_LOAD();
  for (ThreadKind kind : kKinds) {
    SCOPED_TRACE(ThreadKindName(kind));
    EXPECT_NO_THROW(CheckFilterBuilds(kind));
    // A disk worker only moves data; every other thread needs some ioctl.
    EXPECT_EQ(AllowlistFor(kind).ioctls.empty(), kind == ThreadKind::kBlockWorker);
  }
}

TEST(SeccompThreadFilter, EveryNameIsASystemCallOnX86OrArm64) {
  for (ThreadKind kind : kKinds) {
    for (const auto& name : AllowlistFor(kind).syscalls) {
      const bool x86 = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name.c_str()) >= 0;
      const bool arm = seccomp_syscall_resolve_name_arch(SCMP_ARCH_AARCH64, name.c_str()) >= 0;
      EXPECT_TRUE(x86 || arm) << ThreadKindName(kind) << ": " << name << " is no system call";
    }
  }
}

TEST(SeccompThreadFilter, VcpuThreadMayRunKvmButNotOpenFilesOrSockets) {
  SKIP_UNLESS_FILTERS_LOAD();
  // KVM_RUN on a bad fd is allowed through (EBADF), as is exiting.
  EXPECT_TRUE(ExitedZero(RunFiltered(ThreadKind::kVcpu, [] {
    if (ioctl(-1, KVM_RUN, 0) != -1 || errno != EBADF) _exit(4);
    // virtio-net activation (an MMIO write) sets the tap's offloads.
    if (ioctl(-1, TUNSETOFFLOAD, 0) != -1 || errno != EBADF) _exit(5);
    (void)getpid();
  })));
  EXPECT_TRUE(KilledBySigsys(RunFiltered(ThreadKind::kVcpu, [] { (void)socket(AF_UNIX, SOCK_STREAM, 0); })));
  EXPECT_TRUE(KilledBySigsys(RunFiltered(ThreadKind::kVcpu, [] { (void)open("/etc/hostname", O_RDONLY); })));
  // An ioctl the vCPU never makes (set-up only) is forbidden too.
  EXPECT_TRUE(KilledBySigsys(RunFiltered(ThreadKind::kVcpu, [] { (void)ioctl(-1, KVM_SET_REGS, nullptr); })));
}

TEST(SeccompThreadFilter, IoThreadMayUseSocketsButNotExec) {
  SKIP_UNLESS_FILTERS_LOAD();
  EXPECT_TRUE(ExitedZero(RunFiltered(ThreadKind::kIo, [] {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) _exit(4);
    close(fd);
  })));
  EXPECT_TRUE(KilledBySigsys(RunFiltered(ThreadKind::kIo, [] {
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    execv("/bin/true", argv);
  })));
  EXPECT_TRUE(KilledBySigsys(RunFiltered(ThreadKind::kIo, [] { (void)ioctl(-1, KVM_RUN, 0); })));
}

TEST(SeccompThreadFilter, DiskWorkerMayReadWriteAndFlushItsImageButNothingElse) {
  SKIP_UNLESS_FILTERS_LOAD();
  char path[] = "/tmp/hull-disk-worker-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  EXPECT_TRUE(ExitedZero(RunFiltered(ThreadKind::kBlockWorker, [fd] {
    char block[512] = {1, 2, 3};
    iovec iov{block, sizeof block};
    if (pwritev(fd, &iov, 1, 0) != 512 || preadv(fd, &iov, 1, 0) != 512 || fdatasync(fd) != 0) _exit(2);
    if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 512) != 0 && errno != EOPNOTSUPP) _exit(2);
  })));
  EXPECT_TRUE(KilledBySigsys(RunFiltered(ThreadKind::kBlockWorker, [] { (void)open("/etc/hostname", O_RDONLY); })));
  EXPECT_TRUE(KilledBySigsys(RunFiltered(ThreadKind::kBlockWorker, [] { (void)socket(AF_UNIX, SOCK_STREAM, 0); })));
  EXPECT_TRUE(KilledBySigsys(RunFiltered(ThreadKind::kBlockWorker, [] { (void)ioctl(-1, KVM_RUN, 0); })));
  close(fd);
}

TEST(SeccompThreadFilter, ApiThreadMayOpenFilesButNotForkOrCreateVms) {
  SKIP_UNLESS_FILTERS_LOAD();
  EXPECT_TRUE(ExitedZero(RunFiltered(ThreadKind::kApi, [] {
    const int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) _exit(4);
    close(fd);
  })));
  EXPECT_TRUE(KilledBySigsys(RunFiltered(ThreadKind::kApi, [] { (void)fork(); })));
  EXPECT_TRUE(KilledBySigsys(RunFiltered(ThreadKind::kApi, [] { (void)ioctl(-1, KVM_CREATE_VM, 0); })));
}

}  // namespace
}  // namespace hull::vmm::seccomp
