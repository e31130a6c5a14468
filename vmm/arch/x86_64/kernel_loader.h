// Loads an x86-64 Linux kernel into guest memory: a bzImage (64-bit boot
// protocol, protected-mode part at 1 MiB, entered at startup_64 = load + 0x200)
// or an uncompressed vmlinux ELF (PT_LOAD segments at their physical address).
// Every offset and size read from the file is checked against the file and
// against guest memory; a bad file is a BootError naming what is wrong.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "arch/x86_64/zero_page.h"
#include "memory/guest_memory.h"

namespace hull::vmm::x86 {

struct LoadedKernel {
  bool bzimage = false;
  uint64_t entry = 0;  // guest-physical 64-bit entry point
  uint64_t end = 0;    // nothing else may be placed below this (image + decompression room)
  std::vector<uint8_t> setup_header;  // bzImage: bytes from 0x1f1 to the header's end
  uint32_t initrd_addr_max = 0x7fffffff;
  uint32_t cmdline_max = 2048;  // longest command line the kernel takes, without the NUL
};

// Detects the format from the magic bytes. `what` names the file in errors.
LoadedKernel LoadKernelImage(const GuestMemory& memory, std::span<const uint8_t> image,
                             const std::string& what);

// The highest page-aligned address for an initrd of `size` bytes that ends
// below both `initrd_addr_max` and `low_ram_end`, and starts at or above
// `kernel_end`; nullopt when it does not fit.
std::optional<uint64_t> PlaceInitrd(uint64_t size, uint64_t kernel_end, uint64_t low_ram_end,
                                    uint64_t initrd_addr_max);

// The e820 map for guest RAM regions: low RAM stops at the EBDA, the legacy
// hole 0x9fc00..1 MiB is left out.
std::vector<E820Entry> BuildE820(const std::vector<std::pair<uint64_t, uint64_t>>& ram_regions);

struct ZeroPageInputs {
  uint64_t cmdline_address = 0;
  uint64_t initrd_address = 0;
  uint64_t initrd_size = 0;
  std::vector<E820Entry> e820;
};
ZeroPage BuildZeroPage(const LoadedKernel& kernel, const ZeroPageInputs& inputs);

}  // namespace hull::vmm::x86
