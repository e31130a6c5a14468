// The one error type of vmm/io: a system call on the I/O plumbing failed.
#pragma once

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace hull::vmm::io {

class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  // "<what>: <strerror(errno)>"
  static IoError FromErrno(const std::string& what) { return IoError(what + ": " + std::strerror(errno)); }
};

}  // namespace hull::vmm::io
