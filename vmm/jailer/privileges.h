// The last steps before exec: resource limits, then the switch to the VMM's
// unprivileged uid/gid with no supplementary groups, an empty capability
// bounding set, no capabilities in any set (libcap), and no_new_privs.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace hull::vmm::jailer {

void SetOpenFileLimit(uint64_t nofile);

// What a VMM serving a virtio-fs share keeps (as ambient capabilities, so
// they survive the exec): a container's rootfs belongs to root and other
// users, and the guest, not the host, enforces its permissions
// (virtiofs mounts with default_permissions). Reading and writing any file,
// giving created files to the guest's caller and changing mode and times of
// files the VMM's uid does not own — only in what the jail shows: the shares,
// the VMM's read-only files and its own fds. No CAP_SETUID/SETGID (the uid
// switch below cannot be undone), no CAP_MKNOD, no CAP_SYS_ADMIN.
std::vector<int> ShareCapabilities();

// Throws JailerError; on return the process can gain no privilege back, and
// holds no capability except `kept` (in its permitted, effective, inheritable
// and ambient sets, which an exec carries on).
void DropPrivileges(uid_t uid, gid_t gid, const std::vector<int>& kept = {});

}  // namespace hull::vmm::jailer
