// Moves the calling process into the jail: a new mount namespace (private,
// so nothing propagates back to the host), the jail root bind-mounted onto
// itself (nosuid; dev allowed for /dev/kvm even on a nodev base), each file
// bind-mounted read-only over its placeholder, then pivot_root into it and
// the old root detached. Needs CAP_SYS_ADMIN; call before dropping it.
#pragma once

#include <filesystem>
#include <vector>

#include "jailer/jail_layout.h"

namespace hull::vmm::jailer {

void EnterJail(const JailLayout& layout, const std::vector<std::filesystem::path>& files);

}  // namespace hull::vmm::jailer
