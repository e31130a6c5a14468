// Where hull's programs and guest artifacts live. Found relative to the
// running binary, so both layouts work without configuration:
//   build tree:  build/bin/hull        -> build/guest/<arch>/
//   installed:   PREFIX/bin/hull       -> PREFIX/share/hull/<arch>/
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

namespace hull::shim {

// How hull-vmm is confined. Defaults when running as root: through
// hull-jailer (per-VM root, own uid/gid, cgroup, no capabilities) with
// hull-vmm's per-thread seccomp filters on. Opt-outs for debugging, read
// from the environment of the shim / hull CLI:
//   HULL_JAILER=off       run hull-vmm directly, as the caller's user
//                         (=on: the jail or an error; unset: the jail when
//                         hull-jailer is installed beside hull-vmm)
//   HULL_VMM_SECCOMP=off  run hull-vmm without --seccomp
//   HULL_JAILER_UID=N     one fixed uid (and gid) for every VM instead of one per VM
struct VmmConfinement {
  bool jail = false;    // only DiscoverRuntimePaths turns it on
  bool seccomp = false;
  // Where jails are made; empty: <state dir>/jail, so removing a sandbox's
  // state directory (also after a crash) removes its jail tree with it.
  std::filesystem::path chroot_base;
  long fixed_uid = -1;  // < 0: a uid per VM (see JailUidFor in vmm_process.h)
  // Why the default jail is off though root asked for none to be (e.g. no
  // hull-jailer beside hull-vmm); written to the VMM's log at each start.
  std::string note;
};

struct RuntimePaths {
  std::filesystem::path vmm_binary;     // hull-vmm
  std::filesystem::path jailer_binary;  // hull-jailer
  std::filesystem::path kernel;         // bzImage (x86_64) / Image (aarch64)
  std::filesystem::path initrd;         // initramfs.cpio.{lz4,gz}
  VmmConfinement confinement;
};

// The host architecture as `uname -m` spells it.
std::string HostArch();

// Resolves the paths next to `self` (the running executable; defaults to
// /proc/self/exe). Entries that do not exist are left at their first
// candidate so an error can name where they were looked for.
RuntimePaths DiscoverRuntimePaths(const std::filesystem::path& self = {});

// The confinement for a caller with effective uid `euid` and the given
// HULL_JAILER / HULL_VMM_SECCOMP / HULL_JAILER_UID values (nullptr: unset).
// Seccomp defaults on; the jail defaults on for root (it mounts, mknods and
// switches uid, so an unprivileged caller runs hull-vmm unjailed).
// Throws SandboxError for a value it does not understand.
VmmConfinement ConfinementFrom(unsigned euid, const char* jailer, const char* seccomp, const char* fixed_uid);

// How long the shim waits at each step of starting a sandbox (hull-vmm
// serving its API, the guest's kernel, init and agent coming up; each
// agent call then gets at least as long) from the HULL_START_TIMEOUT value:
// whole seconds from 1 to 3600; nullptr or empty: `fallback`. containerd
// passes its environment to the shim and has no per-runtime flag for it;
// many sandboxes starting at once on a slow host (nested TCG) need more
// than the default. A VMM that dies ends the wait at once, so a long value
// only costs for a hung one. Throws SandboxError for anything else.
std::chrono::seconds StartTimeoutFrom(const char* value, std::chrono::seconds fallback);

}  // namespace hull::shim
