#include "fuse/name_check.h"

#include <cerrno>

namespace hull::vmm::fuse {

int CheckName(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return EINVAL;
  if (name.size() > kMaxNameLength) return ENAMETOOLONG;
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) return EINVAL;
  return 0;
}

}  // namespace hull::vmm::fuse
