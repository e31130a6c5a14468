// The one error type of the sandbox module: what went wrong in starting or
// talking to a microVM, phrased so a user knows what to do.
#pragma once

#include <stdexcept>

namespace hull::shim {

class SandboxError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace hull::shim
