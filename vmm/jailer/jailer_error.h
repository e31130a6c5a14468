// The one error type of hull-jailer: what failed, and what to do about it.
#pragma once

#include <stdexcept>
#include <string>

namespace hull::vmm::jailer {

class JailerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  // "what: strerror(errno)" for a failed system call.
  static JailerError FromErrno(const std::string& what, int error);
};

}  // namespace hull::vmm::jailer
