// hull-vmm's per-thread seccomp filters, as Firecracker has them: every
// thread kind gets an allow-list of the system calls its loop makes, ioctl
// restricted by request number, and anything else kills the whole process
// (SECCOMP_RET_KILL_PROCESS, seen as SIGSYS). Each thread installs its own
// filter after its set-up is done, right before it enters its loop; the
// filter binds that thread (and threads it starts later) only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "seccomp/seccomp_error.h"

namespace hull::vmm::seccomp {

enum class ThreadKind {
  kVcpu,  // KVM_RUN and the MMIO/PIO exits it dispatches to devices
  kIo,    // the virtio I/O loop: epoll, eventfds, taps, vsock sockets, disk I/O
  kApi,   // the main loop after InstanceStart: API socket, console, drive swap, exit
  kFs,    // the virtio-fs loop: epoll, eventfds and the *at() calls of the shared directories
  kBlockWorker,  // a disk's I/O workers: reads, writes, flushes and discards of its image
};

const char* ThreadKindName(ThreadKind kind);

// What a thread kind may call: syscalls allowed with any arguments, and the
// ioctl request numbers allowed (no other ioctl is).
struct Allowlist {
  std::vector<std::string> syscalls;
  std::vector<uint64_t> ioctls;
};

Allowlist AllowlistFor(ThreadKind kind);

// Builds the kind's filter without loading it; throws SeccompError if a
// rule does not build.
void CheckFilterBuilds(ThreadKind kind);

// Sets no_new_privs (libseccomp's default) and loads the kind's filter on the calling thread.
// Throws SeccompError.
void InstallThreadFilter(ThreadKind kind);

}  // namespace hull::vmm::seccomp
