// Split-virtqueue wire layout (virtio 1.x, 2.7). <linux/virtio_ring.h> has
// the same values but does not compile as C++.
#pragma once

#include <cstdint>

namespace hull::vmm::virtio {

inline constexpr uint16_t kDescFlagNext = 1;
inline constexpr uint16_t kDescFlagWrite = 2;
inline constexpr uint16_t kDescFlagIndirect = 4;
inline constexpr uint16_t kAvailFlagNoInterrupt = 1;
inline constexpr uint16_t kUsedFlagNoNotify = 1;

struct RingDescriptor {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};
static_assert(sizeof(RingDescriptor) == 16);

struct UsedElement {
  uint32_t id;
  uint32_t len;
};
static_assert(sizeof(UsedElement) == 8);

}  // namespace hull::vmm::virtio
