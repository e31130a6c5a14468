// Loads an arm64 Linux "Image" (Documentation/arch/arm64/booting.rst): a
// 64-byte header with the magic "ARM\x64" at 0x38, text_offset and
// image_size; the image goes text_offset bytes above a 2 MiB-aligned base
// (the start of RAM) and is entered at its first byte. Also places the FDT
// (top 2 MiB of RAM) and the initrd (just below it). Every value read from
// the file is checked; a bad file is a BootError naming what is wrong.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "memory/guest_memory.h"

namespace hull::vmm::aarch64 {

inline constexpr uint64_t kImageHeaderSize = 64;
inline constexpr uint64_t kImageMagicOffset = 0x38;
inline constexpr uint32_t kImageMagic = 0x644d5241;  // "ARM\x64", little-endian
inline constexpr uint64_t kImageDefaultTextOffset = 0x80000;  // when image_size is 0 (< 3.17)

struct ImageHeader {
  uint64_t text_offset = 0;
  uint64_t image_size = 0;  // bytes the kernel occupies from its load address, .bss included
  uint64_t flags = 0;
};

// Parses and checks the header of `image` (`what` names the file in errors).
ImageHeader ParseImageHeader(std::span<const uint8_t> image, const std::string& what);

struct LoadedImage {
  uint64_t entry = 0;  // guest-physical load address = entry point
  uint64_t end = 0;    // first byte past image_size
};

// Copies `image` into guest RAM at (RAM base + text_offset). Throws BootError
// when RAM's base is not 2 MiB aligned or the kernel does not fit.
LoadedImage LoadImage(const GuestMemory& memory, std::span<const uint8_t> image,
                      const std::string& what);

struct BootBlobPlacement {
  uint64_t fdt = 0;
  std::optional<uint64_t> initrd;
};

// The FDT in the top 2 MiB of the first RAM region, the initrd (if any)
// page-aligned below it, neither overlapping the kernel (which ends at
// `kernel_end`). Throws BootError naming what does not fit.
BootBlobPlacement PlaceBootBlobs(const GuestMemory& memory, uint64_t kernel_end,
                                 std::optional<uint64_t> initrd_size);

}  // namespace hull::vmm::aarch64
