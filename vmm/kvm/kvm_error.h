// The one error type of the KVM wrappers: says which ioctl failed and why.
#pragma once

#include <stdexcept>
#include <string>

namespace hull::vmm::kvm {

class KvmError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  // "<what>: <strerror(errno)>", read from the current errno.
  static KvmError FromErrno(const std::string& what);
};

}  // namespace hull::vmm::kvm
