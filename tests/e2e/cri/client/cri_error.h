// The one error type of the CRI test client: a message that says what failed
// and, where it can, what to do about it.
#pragma once

#include <stdexcept>
#include <string>

namespace hull::cri {

class CriError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace hull::cri
