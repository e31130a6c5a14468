#include "jailer/jailer_error.h"

#include <cstring>

namespace hull::vmm::jailer {

JailerError JailerError::FromErrno(const std::string& what, int error) {
  return JailerError(what + ": " + std::strerror(error));
}

}  // namespace hull::vmm::jailer
