// The one error type of the virtio devices' host side: a back end could not
// be set up (image missing, tap not openable, socket path in use, bad
// configuration). Messages name the resource and what to do.
#pragma once

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace hull::vmm::virtio {

class DeviceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  static DeviceError FromErrno(const std::string& what) { return DeviceError(what + ": " + std::strerror(errno)); }
};

}  // namespace hull::vmm::virtio
