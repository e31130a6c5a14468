// The one error type of the API: an HTTP status and a fault message that
// goes back as {"fault_message": "..."}.
#pragma once

#include <stdexcept>
#include <string>

namespace hull::vmm::api {

class ApiError : public std::runtime_error {
 public:
  ApiError(unsigned status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  unsigned status() const { return status_; }

 private:
  unsigned status_;
};

}  // namespace hull::vmm::api
