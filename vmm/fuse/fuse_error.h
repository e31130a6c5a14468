// The one error type of vmm/fuse's set-up: a share that cannot be served
// (directory missing, not a directory, /proc/self/fd unavailable). Guest
// requests never throw: they get a FUSE error reply with an errno.
#pragma once

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace hull::vmm::fuse {

class FuseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  static FuseError FromErrno(const std::string& what) { return FuseError(what + ": " + std::strerror(errno)); }
};

}  // namespace hull::vmm::fuse
