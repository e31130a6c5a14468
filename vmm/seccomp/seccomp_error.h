// The one error type of the seccomp filters: which filter, what failed.
#pragma once

#include <stdexcept>

namespace hull::vmm::seccomp {

class SeccompError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace hull::vmm::seccomp
