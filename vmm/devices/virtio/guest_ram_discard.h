// Gives guest RAM back to the host: the pages of a host range inside guest
// memory are dropped, so they stop counting in the VMM's RSS/PSS and read as
// zeros when the guest touches them again (what the balloon's free page
// reporting and inflation promise the guest).
//
// How depends on the mapping: private anonymous RAM (hull's default, with
// transparent huge pages) is madvise(MADV_DONTNEED)ed; a memfd region
// (shareable or hugetlb) has its file range punched out with
// fallocate(PUNCH_HOLE), since MADV_DONTNEED would only unmap a shared page
// and leave it in the file.
#pragma once

#include <cstdint>
#include <span>

#include "memory/guest_memory.h"

namespace hull::vmm::virtio {

// Discards the whole 4 KiB pages inside `range` (a partial page at either
// end is kept). `range` must lie inside one region of `memory` — spans from
// a popped descriptor chain or GuestMemory::Translate() always do; anything
// else is refused (returns 0). Returns the bytes discarded; 0 when the
// kernel refused (the guest's memory is unchanged then, which is safe).
uint64_t DiscardGuestRam(const GuestMemory& memory, std::span<uint8_t> range);

}  // namespace hull::vmm::virtio
