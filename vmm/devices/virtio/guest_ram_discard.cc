#include "devices/virtio/guest_ram_discard.h"

#include <fcntl.h>
#include <sys/mman.h>

namespace hull::vmm::virtio {
namespace {

constexpr uintptr_t kPage = 4096;

}  // namespace

uint64_t DiscardGuestRam(const GuestMemory& memory, std::span<uint8_t> range) {
  const auto begin = reinterpret_cast<uintptr_t>(range.data());
  const uintptr_t end = begin + range.size();
  if (end < begin) return 0;
  const uintptr_t first = (begin + kPage - 1) & ~(kPage - 1);
  const uintptr_t last = end & ~(kPage - 1);
  if (last <= first) return 0;
  for (const auto& region : memory.regions()) {
    const auto base = reinterpret_cast<uintptr_t>(region.host_base());
    if (first < base || last > base + region.size()) continue;
    const uint64_t length = last - first;
    if (region.memfd() >= 0) {
      const off_t offset = static_cast<off_t>(first - base);
      if (fallocate(region.memfd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset,
                    static_cast<off_t>(length)) != 0) {
        return 0;
      }
      return length;
    }
    if (madvise(reinterpret_cast<void*>(first), length, MADV_DONTNEED) != 0) return 0;
    return length;
  }
  return 0;  // not guest RAM: never touch host memory we do not own
}

}  // namespace hull::vmm::virtio
