// The one error type of the sandbox module: what went wrong in starting or
// talking to a microVM, phrased so a user knows what to do. `code` is a gRPC
// status code (the agent's own when the agent refused a call), so callers
// can pass NotFound, FailedPrecondition... on to containerd unchanged.
#pragma once

#include <stdexcept>
#include <string>

namespace hull::shim {

class SandboxError : public std::runtime_error {
 public:
  static constexpr int kUnknown = 2;
  explicit SandboxError(const std::string& message, int code = kUnknown)
      : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

}  // namespace hull::shim
