// The one error type of vmm/virtio: the driver broke the virtio rules
// (a malformed ring, an address outside guest RAM, a loop). The device that
// sees it sets DEVICE_NEEDS_RESET and stops; the VMM carries on.
#pragma once

#include <stdexcept>

namespace hull::vmm::virtio {

class VirtioError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace hull::vmm::virtio
