// hull-vmm's fd budget: guest-driven resources (vsock connections, virtio-fs
// inodes and handles) are sized from RLIMIT_NOFILE, so the soft limit is
// raised to the hard one first (as Go programs and containerd do): a shell's
// 1024 would otherwise cap a share at 256 files a guest can keep looked up.
#pragma once

#include <sys/resource.h>

namespace hull::vmm::io {

// The soft limit raised to the hard one; `limit` unchanged when it already is.
rlimit RaisedOpenFileLimit(rlimit limit);

// Applies RaisedOpenFileLimit to this process; returns the soft limit now in
// force (the old one if setrlimit fails: the VMM still runs, with less).
rlim_t RaiseOpenFileLimit();

}  // namespace hull::vmm::io
