// Moves the calling process into the jail: a new mount namespace (private,
// so nothing propagates back to the host), the jail root bind-mounted onto
// itself (nosuid; dev allowed for /dev/kvm even on a nodev base), each file
// bind-mounted read-only over its placeholder, then pivot_root into it and
// the old root detached. Needs CAP_SYS_ADMIN; call before dropping it.
//
// With share directories (virtio-fs) the namespace is made a slave instead
// of private — still nothing propagates back to the host — and each share
// is bind-mounted read-write (nosuid, nodev) at its path: a slave of the
// host's share, which must be a shared mount point, so the container rootfs
// and volumes the host mounts below it later appear in the jail too. The
// jailer's /proc/<pid>/fd (the VMM's, after exec) is bound at /proc/self/fd,
// the one part of /proc the passthrough uses; no other process is visible.
#pragma once

#include <filesystem>
#include <vector>

#include "jailer/jail_layout.h"

namespace hull::vmm::jailer {

void EnterJail(const JailLayout& layout, const std::vector<std::filesystem::path>& files,
               const std::vector<std::filesystem::path>& share_dirs = {});

}  // namespace hull::vmm::jailer
