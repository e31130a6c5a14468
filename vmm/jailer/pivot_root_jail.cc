#include "jailer/pivot_root_jail.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jailer/jailer_error.h"
#include "jailer/mount_info.h"

namespace hull::vmm::jailer {
namespace fs = std::filesystem;

namespace {

void Mount(const char* source, const fs::path& target, unsigned long flags, const char* what) {
  if (::mount(source, target.c_str(), nullptr, flags, nullptr) != 0) {
    throw JailerError::FromErrno(std::string(what) + " " + target.string(), errno);
  }
}

}  // namespace

void EnterJail(const JailLayout& layout, const std::vector<fs::path>& files, const std::vector<fs::path>& share_dirs) {
  if (!share_dirs.empty()) {
    const std::string mountinfo = ReadOwnMountInfo();
    for (const auto& share : share_dirs) {
      const auto point = FindMountPoint(mountinfo, share);
      if (!point || !point->shared) {
        throw JailerError("--share-dir " + share.string() +
                          " is not a shared mount point, so what the host mounts below it later would never "
                          "reach the VMM (make it one: mount --bind DIR DIR && mount --make-shared DIR)");
      }
    }
  }
  if (::unshare(CLONE_NEWNS) != 0) throw JailerError::FromErrno("unshare(CLONE_NEWNS)", errno);
  if (share_dirs.empty()) {
    Mount(nullptr, "/", MS_REC | MS_PRIVATE, "making the mount namespace private at");
  } else {
    Mount(nullptr, "/", MS_REC | MS_SLAVE, "making the mount namespace a slave (shares receive, nothing goes back) at");
  }
  const fs::path& root = layout.root();
  Mount(root.c_str(), root, MS_BIND, "bind-mounting the jail root onto itself at");
  Mount(nullptr, root, MS_BIND | MS_REMOUNT | MS_NOSUID, "remounting the jail root nosuid at");
  for (const auto& file : files) {
    const fs::path target = layout.InRoot(file);
    Mount(file.c_str(), target, MS_BIND, "bind-mounting a file into the jail at");
    Mount(nullptr, target, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
          "making a jailed file read-only at");
  }
  for (const auto& share : share_dirs) {
    const fs::path target = layout.InRoot(share);
    Mount(share.c_str(), target, MS_BIND | MS_REC, "bind-mounting a virtio-fs share into the jail at");
    Mount(nullptr, target, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV, "remounting a share nosuid,nodev at");
    Mount(nullptr, target, MS_REC | MS_SLAVE, "making a share a slave of the host's at");
  }
  if (!share_dirs.empty()) {
    // exec keeps the pid: this is the VMM's own fd directory.
    const fs::path own_fds = "/proc/" + std::to_string(::getpid()) + "/fd";
    const fs::path target = layout.InRoot("/proc/self/fd");
    Mount(own_fds.c_str(), target, MS_BIND, "bind-mounting the VMM's own /proc/<pid>/fd at");
    Mount(nullptr, target, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC,
          "remounting /proc/self/fd nosuid,nodev,noexec at");
  }
  if (::chdir(root.c_str()) != 0) throw JailerError::FromErrno("chdir " + root.string(), errno);
  // pivot_root(".", "."): the old root ends up stacked on the new one and is
  // detached at once, so no directory for it is needed inside the jail.
  if (::syscall(SYS_pivot_root, ".", ".") != 0) throw JailerError::FromErrno("pivot_root into " + root.string(), errno);
  if (::umount2(".", MNT_DETACH) != 0) throw JailerError::FromErrno("detaching the old root", errno);
  if (::chdir("/") != 0) throw JailerError::FromErrno("chdir / in the jail", errno);
}

}  // namespace hull::vmm::jailer
