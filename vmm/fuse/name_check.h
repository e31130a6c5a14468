// The check every guest-supplied name goes through before it reaches a
// host *at() call: one path component, nothing that walks up or sideways.
#pragma once

#include <string_view>

namespace hull::vmm::fuse {

// NAME_MAX: no host file system takes a longer component.
inline constexpr size_t kMaxNameLength = 255;

// 0 when `name` is a single, ordinary path component; otherwise the errno to
// answer: EINVAL for "", ".", "..", a '/' or a NUL inside it, ENAMETOOLONG
// beyond kMaxNameLength.
int CheckName(std::string_view name);

}  // namespace hull::vmm::fuse
