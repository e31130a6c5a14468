#include "devices/virtio/virtio_rng.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>

namespace hull::vmm::virtio {

VirtioRng::VirtioRng() : VirtioDevice(kDeviceTypeRng, 0, {256}) {}

void VirtioRng::ProcessQueue(size_t index) {
  Queue& q = queues()[index];
  do {
    while (auto chain = q.Pop()) {
      size_t filled = 0;
      for (auto part : chain->writable()) {
        size_t want = std::min(part.size(), kMaxBytesPerRequest - filled);
        size_t done = 0;
        while (done < want) {
          ssize_t n = getrandom(part.data() + done, want - done, 0);
          if (n < 0) {
            if (errno == EINTR) continue;
            break;  // no entropy to give: return what we have
          }
          done += static_cast<size_t>(n);
        }
        filled += done;
        if (done < want || filled == kMaxBytesPerRequest) break;
      }
      q.AddUsed(chain->head(), static_cast<uint32_t>(filled));
    }
  } while (q.EnableNotification());
  SignalUsed(q);
}

}  // namespace hull::vmm::virtio
