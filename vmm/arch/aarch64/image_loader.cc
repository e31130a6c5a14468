#include "arch/aarch64/image_loader.h"

#include <cstdio>
#include <cstring>

#include "arch/aarch64/layout.h"
#include "arch/arch.h"

namespace hull::vmm::aarch64 {
namespace {

using arch::BootError;

constexpr uint64_t kTextOffsetField = 0x08;
constexpr uint64_t kImageSizeField = 0x10;
constexpr uint64_t kFlagsField = 0x18;
constexpr uint64_t kFlagBigEndian = 0x1;
constexpr uint64_t kPageSize = 0x1000;

uint64_t ReadU64(std::span<const uint8_t> image, uint64_t offset) {
  uint64_t v;
  std::memcpy(&v, image.data() + offset, sizeof v);
  return v;
}

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

const MemoryRegion& FirstRegion(const GuestMemory& memory) {
  if (memory.regions().empty()) throw BootError("the VM has no guest RAM to load a kernel into");
  return memory.regions().front();
}

}  // namespace

ImageHeader ParseImageHeader(std::span<const uint8_t> image, const std::string& what) {
  uint32_t magic = 0;
  if (image.size() >= kImageHeaderSize)
    std::memcpy(&magic, image.data() + kImageMagicOffset, sizeof magic);
  if (magic != kImageMagic) {
    throw BootError(what +
                    ": not an arm64 Image (no \"ARM\\x64\" magic at offset 0x38); give the "
                    "kernel's arch/arm64/boot/Image, not a vmlinux, zImage or compressed Image.gz");
  }
  ImageHeader header;
  header.text_offset = ReadU64(image, kTextOffsetField);
  header.image_size = ReadU64(image, kImageSizeField);
  header.flags = ReadU64(image, kFlagsField);
  if (header.image_size == 0) {
    // Kernels before 3.17: no size in the header, text_offset fixed.
    header.text_offset = kImageDefaultTextOffset;
    header.image_size = image.size();
  }
  if (header.flags & kFlagBigEndian)
    throw BootError(what + ": a big-endian arm64 kernel; hull runs little-endian guests");
  if (header.text_offset >= kRamAlignment || header.text_offset % kPageSize != 0) {
    throw BootError(what + ": corrupt Image header (text_offset " + Hex(header.text_offset) +
                    " is not a page-aligned offset below 2 MiB)");
  }
  if (header.image_size < image.size()) {
    throw BootError(what + ": corrupt Image header (image_size " + Hex(header.image_size) +
                    " is smaller than the file, " + Hex(image.size()) + " bytes)");
  }
  return header;
}

LoadedImage LoadImage(const GuestMemory& memory, std::span<const uint8_t> image,
                      const std::string& what) {
  const ImageHeader header = ParseImageHeader(image, what);
  const MemoryRegion& ram = FirstRegion(memory);
  if (ram.guest_base() % kRamAlignment != 0) {
    throw BootError("guest RAM starts at " + Hex(ram.guest_base()) +
                    ", which is not 2 MiB aligned; an arm64 Image must be loaded at a 2 MiB-aligned "
                    "base");
  }
  LoadedImage loaded;
  loaded.entry = ram.guest_base() + header.text_offset;
  if (header.image_size > ram.size() - header.text_offset) {
    throw BootError(what + ": the kernel needs " + std::to_string(header.image_size >> 20) +
                    " MiB from " + Hex(loaded.entry) + ", more than guest RAM holds (" +
                    std::to_string(ram.size() >> 20) + " MiB); give the VM more memory");
  }
  loaded.end = loaded.entry + header.image_size;
  memory.WriteOrThrow(loaded.entry, image, "kernel image");
  return loaded;
}

BootBlobPlacement PlaceBootBlobs(const GuestMemory& memory, uint64_t kernel_end,
                                 std::optional<uint64_t> initrd_size) {
  const MemoryRegion& ram = FirstRegion(memory);
  const uint64_t ram_end = ram.guest_end();
  BootBlobPlacement placement;
  if (ram.size() < kFdtMaxSize || ram_end - kFdtMaxSize < kernel_end) {
    throw BootError("no room for the device tree above the kernel (it ends at " + Hex(kernel_end) +
                    ", RAM at " + Hex(ram_end) + "); give the VM more memory");
  }
  placement.fdt = (ram_end - kFdtMaxSize) & ~(kRamAlignment - 1);
  if (initrd_size) {
    const uint64_t room = placement.fdt - kernel_end;
    if (*initrd_size > room) {
      throw BootError("the initrd (" + std::to_string(*initrd_size >> 20) +
                      " MiB) does not fit in guest memory between the kernel and the device tree (" +
                      std::to_string(room >> 20) +
                      " MiB free); give the VM more memory (mem_size_mib) or use a smaller initrd");
    }
    const uint64_t address = (placement.fdt - *initrd_size) & ~(kPageSize - 1);
    if (address < kernel_end) {
      throw BootError("the initrd does not fit in guest memory above the kernel; give the VM more "
                      "memory (mem_size_mib)");
    }
    placement.initrd = address;
  }
  return placement;
}

}  // namespace hull::vmm::aarch64
