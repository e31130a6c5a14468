// The last steps before exec: resource limits, then the switch to the VMM's
// unprivileged uid/gid with no supplementary groups, an empty capability
// bounding set, no capabilities in any set (libcap), and no_new_privs.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace hull::vmm::jailer {

void SetOpenFileLimit(uint64_t nofile);

// Throws JailerError; on return the process can gain no privilege back.
void DropPrivileges(uid_t uid, gid_t gid);

}  // namespace hull::vmm::jailer
