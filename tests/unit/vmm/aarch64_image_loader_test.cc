// The arm64 Image loader and boot-blob placement on synthetic images in fake
// guest memory: where things land, and the errors for broken input.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <vector>

#include "arch/aarch64/image_loader.h"
#include "arch/aarch64/layout.h"
#include "arch/arch.h"

namespace hull::vmm::aarch64 {
namespace {

GuestMemory MakeMemory(uint64_t base, uint64_t size) {
  GuestMemory memory;
  memory.AddRegion(MemoryRegion(base, size));
  return memory;
}

template <typename T>
void Put(std::vector<uint8_t>& image, size_t offset, T value) {
  std::memcpy(image.data() + offset, &value, sizeof value);
}

// A header plus `payload` bytes of 0xab after it.
std::vector<uint8_t> MakeImage(uint64_t text_offset, uint64_t image_size, size_t payload = 4096,
                               uint64_t flags = 0x2) {
  std::vector<uint8_t> image(kImageHeaderSize + payload, 0);
  Put<uint32_t>(image, 0, 0x91005a4d);  // "MZ" + branch, as real Images start
  Put<uint64_t>(image, 0x08, text_offset);
  Put<uint64_t>(image, 0x10, image_size);
  Put<uint64_t>(image, 0x18, flags);
  Put<uint32_t>(image, kImageMagicOffset, kImageMagic);
  std::memset(image.data() + kImageHeaderSize, 0xab, payload);
  return image;
}

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const arch::BootError& e) {
    return e.what();
  }
  return "";
}

TEST(Aarch64ImageLoader, ParsesTheHeader) {
  const auto image = MakeImage(0x80000, 0x300000);
  const ImageHeader header = ParseImageHeader(image, "k");
  EXPECT_EQ(header.text_offset, 0x80000u);
  EXPECT_EQ(header.image_size, 0x300000u);
  EXPECT_EQ(header.flags, 0x2u);
}

TEST(Aarch64ImageLoader, LoadsAtTextOffsetAboveTheTwoMibBase) {
  const GuestMemory memory = MakeMemory(kDramStart, 64 * kMiB);
  const auto image = MakeImage(0x80000, 0x300000);
  const LoadedImage loaded = LoadImage(memory, image, "k");
  EXPECT_EQ(loaded.entry, kDramStart + 0x80000);
  EXPECT_EQ(loaded.end, kDramStart + 0x80000 + 0x300000);
  std::vector<uint8_t> back(image.size());
  ASSERT_TRUE(memory.Read(loaded.entry, back));
  EXPECT_EQ(back, image);
}

TEST(Aarch64ImageLoader, ModernImageWithZeroTextOffsetLoadsAtRamBase) {
  const GuestMemory memory = MakeMemory(kDramStart, 64 * kMiB);
  const LoadedImage loaded = LoadImage(memory, MakeImage(0, 0x200000), "k");
  EXPECT_EQ(loaded.entry, kDramStart);
}

TEST(Aarch64ImageLoader, PreHeaderSizeKernelGetsTheOldTextOffset) {
  const GuestMemory memory = MakeMemory(kDramStart, 64 * kMiB);
  const auto image = MakeImage(0, 0);
  const LoadedImage loaded = LoadImage(memory, image, "k");
  EXPECT_EQ(loaded.entry, kDramStart + kImageDefaultTextOffset);
  EXPECT_EQ(loaded.end, loaded.entry + image.size());
}

TEST(Aarch64ImageLoader, BadMagicIsNotAnArm64Image) {
  const GuestMemory memory = MakeMemory(kDramStart, 64 * kMiB);
  auto image = MakeImage(0, 0x200000);
  Put<uint32_t>(image, kImageMagicOffset, 0x464c457f);
  EXPECT_NE(ErrorOf([&] { LoadImage(memory, image, "kernel image /k"); })
                .find("kernel image /k: not an arm64 Image"),
            std::string::npos);
  // Too short to hold a header at all, and an x86 bzImage-sized blob of zeros.
  const std::vector<uint8_t> tiny(16, 0);
  EXPECT_NE(ErrorOf([&] { LoadImage(memory, tiny, "k"); }).find("not an arm64 Image"),
            std::string::npos);
}

TEST(Aarch64ImageLoader, RefusesCorruptHeaders) {
  const GuestMemory memory = MakeMemory(kDramStart, 64 * kMiB);
  EXPECT_NE(ErrorOf([&] { LoadImage(memory, MakeImage(0x1234, 0x200000), "k"); })
                .find("text_offset"),
            std::string::npos)
      << "a text_offset that is not page aligned";
  EXPECT_NE(ErrorOf([&] { LoadImage(memory, MakeImage(0x200000, 0x200000), "k"); })
                .find("text_offset"),
            std::string::npos)
      << "a text_offset of 2 MiB or more";
  EXPECT_NE(ErrorOf([&] { LoadImage(memory, MakeImage(0, 0x100, 4096), "k"); })
                .find("image_size"),
            std::string::npos)
      << "image_size smaller than the file";
  EXPECT_NE(ErrorOf([&] { LoadImage(memory, MakeImage(0, 0x200000, 4096, 0x3), "k"); })
                .find("big-endian"),
            std::string::npos);
}

TEST(Aarch64ImageLoader, RefusesRamThatIsNotTwoMibAligned) {
  const GuestMemory memory = MakeMemory(kDramStart + 0x1000, 64 * kMiB);
  EXPECT_NE(ErrorOf([&] { LoadImage(memory, MakeImage(0, 0x200000), "k"); })
                .find("not 2 MiB aligned"),
            std::string::npos);
}

TEST(Aarch64ImageLoader, RefusesAKernelBiggerThanRam) {
  const GuestMemory memory = MakeMemory(kDramStart, 4 * kMiB);
  EXPECT_NE(ErrorOf([&] { LoadImage(memory, MakeImage(0, 8 * kMiB), "k"); })
                .find("give the VM more memory"),
            std::string::npos);
}

TEST(Aarch64ImageLoader, PlacesFdtAtTheTopAndInitrdBelowIt) {
  const GuestMemory memory = MakeMemory(kDramStart, 64 * kMiB);
  const auto placement = PlaceBootBlobs(memory, kDramStart + 8 * kMiB, 5 * kMiB + 123);
  EXPECT_EQ(placement.fdt, kDramStart + 62 * kMiB);
  EXPECT_EQ(placement.fdt % kRamAlignment, 0u);
  ASSERT_TRUE(placement.initrd);
  EXPECT_EQ(*placement.initrd % 0x1000, 0u);
  EXPECT_LE(*placement.initrd + 5 * kMiB + 123, placement.fdt);
  EXPECT_GE(*placement.initrd, kDramStart + 8 * kMiB);
  EXPECT_FALSE(PlaceBootBlobs(memory, kDramStart + 8 * kMiB, std::nullopt).initrd);
}

TEST(Aarch64ImageLoader, InitrdThatDoesNotFitIsRefused) {
  const GuestMemory memory = MakeMemory(kDramStart, 16 * kMiB);
  EXPECT_NE(ErrorOf([&] { PlaceBootBlobs(memory, kDramStart + 8 * kMiB, 7 * kMiB); })
                .find("does not fit"),
            std::string::npos);
  EXPECT_NO_THROW(PlaceBootBlobs(memory, kDramStart + 8 * kMiB, 6 * kMiB));
  EXPECT_NE(ErrorOf([&] { PlaceBootBlobs(memory, kDramStart + 15 * kMiB, std::nullopt); })
                .find("device tree"),
            std::string::npos);
}

}  // namespace
}  // namespace hull::vmm::aarch64
