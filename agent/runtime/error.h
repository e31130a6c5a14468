// The runtime's one error type: a category the gRPC layer maps to a status
// code, and a message that says what failed and, where it can, what to do.
#pragma once

#include <stdexcept>
#include <string>

namespace hull::runtime {

enum class ErrorKind {
  invalid_argument,  // the request or config.json is wrong
  not_found,         // unknown container/process, missing rootfs
  already_exists,
  failed_precondition,  // wrong state for the operation
  resource_exhausted,
  unavailable,  // a kernel feature is missing
  internal,     // a system call failed unexpectedly
};

class RuntimeError : public std::runtime_error {
 public:
  RuntimeError(ErrorKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

// "<what>: <strerror(errno)>" as an internal error.
[[noreturn]] void throw_errno(const std::string& what);
[[noreturn]] void throw_errno(const std::string& what, int err);

}  // namespace hull::runtime
