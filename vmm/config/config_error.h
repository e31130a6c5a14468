// The one error type of the configuration model: a message that names the
// section and field at fault and what to write instead.
#pragma once

#include <stdexcept>

namespace hull::vmm::config {

class ConfigError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace hull::vmm::config
