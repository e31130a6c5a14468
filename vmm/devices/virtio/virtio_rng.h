// virtio-rng (virtio 1.x, 5.4): one request queue; every writable buffer the
// driver posts is filled from the host's getrandom(2).
#pragma once

#include "virtio/virtio_device.h"

namespace hull::vmm::virtio {

inline constexpr uint32_t kDeviceTypeRng = 4;

class VirtioRng : public VirtioDevice {
 public:
  VirtioRng();

  // Cap per request, so one huge buffer cannot monopolise the I/O thread.
  static constexpr size_t kMaxBytesPerRequest = 64 * 1024;

 protected:
  void ProcessQueue(size_t index) override;
};

}  // namespace hull::vmm::virtio
