// The fake guest RAM the virtio harnesses load each input into.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>

#include "memory/guest_memory.h"

namespace hull::fuzz {

// Guest RAM as two regions with a 4 KiB hole between them, so chains can
// point into the hole, across it, and past the end.
inline constexpr uint64_t kRegion0 = 0;
inline constexpr uint64_t kRegion0Size = 0x10000;
inline constexpr uint64_t kRegion1 = 0x11000;
inline constexpr uint64_t kRegion1Size = 0x10000;

class FuzzGuestMemory {
 public:
  FuzzGuestMemory() {
    memory_.AddRegion(vmm::MemoryRegion(kRegion0, kRegion0Size, {.hugepages = false, .shareable = false}));
    memory_.AddRegion(vmm::MemoryRegion(kRegion1, kRegion1Size, {.hugepages = false, .shareable = false}));
  }
  const vmm::GuestMemory& memory() const { return memory_; }

  // Zeroes RAM, then copies `image` from guest address 0 on (spilling into
  // the second region once the first is full).
  void Load(std::span<const uint8_t> image) const {
    for (const auto& r : memory_.regions()) std::memset(r.host_base(), 0, r.size());
    const size_t first = std::min<size_t>(image.size(), kRegion0Size);
    std::memcpy(memory_.regions()[0].host_base(), image.data(), first);
    const size_t second = std::min<size_t>(image.size() - first, kRegion1Size);
    std::memcpy(memory_.regions()[1].host_base(), image.data() + first, second);
  }

  // Whether a host span lies wholly inside one region's mapping.
  bool HostSpanInside(std::span<const uint8_t> s) const {
    for (const auto& r : memory_.regions()) {
      const uint8_t* base = r.host_base();
      if (s.data() >= base && s.size() <= r.size() && s.data() - base <= static_cast<ptrdiff_t>(r.size() - s.size())) {
        return true;
      }
    }
    return false;
  }

 private:
  vmm::GuestMemory memory_;
};

}  // namespace hull::fuzz
