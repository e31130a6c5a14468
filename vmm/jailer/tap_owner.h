// Hands a persistent tap to the VMM's uid/gid (TUNSETOWNER/TUNSETGROUP), so
// the unprivileged VMM may attach to it: the kernel lets a tap's owner open
// it without CAP_NET_ADMIN. Run in the tap's network namespace, as root.
#pragma once

#include <sys/types.h>

#include <string>

namespace hull::vmm::jailer {

void HandTapTo(const std::string& tap, uid_t uid, gid_t gid);

}  // namespace hull::vmm::jailer
