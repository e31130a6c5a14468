// The x86-64 loader on synthetic kernel images: what lands where in guest
// memory, the zero page fields, and the errors for broken files.
#if defined(__x86_64__)
#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "arch/arch.h"
#include "arch/x86_64/kernel_loader.h"
#include "arch/x86_64/layout.h"

namespace hull::vmm::x86 {
namespace {

constexpr uint64_t kMiB = 1 << 20;

GuestMemory MakeMemory(uint64_t size) {
  GuestMemory memory;
  memory.AddRegion(MemoryRegion(0, size));
  return memory;
}

template <typename T>
void Put(std::vector<uint8_t>& image, size_t offset, T value) {
  std::memcpy(image.data() + offset, &value, sizeof value);
}

// A bzImage with one setup sector, then `payload` bytes of 0xab.
std::vector<uint8_t> MakeBzImage(size_t payload = 4096) {
  std::vector<uint8_t> image(2 * 512 + payload, 0);
  Put<uint8_t>(image, zp::kSetupSects, 1);
  Put<uint16_t>(image, zp::kBootFlag, zp::kBootFlagMagic);
  Put<uint8_t>(image, zp::kJump + 1, 0x66);  // header ends at 0x268
  Put<uint32_t>(image, zp::kHeader, zp::kHeaderMagic);
  Put<uint16_t>(image, zp::kVersion, 0x020f);
  Put<uint8_t>(image, zp::kLoadFlags, zp::kLoadedHigh);
  Put<uint32_t>(image, zp::kInitrdAddrMax, 0x7fffffff);
  Put<uint32_t>(image, zp::kKernelAlignment, 0x200000);
  Put<uint16_t>(image, zp::kXLoadFlags, zp::kXlfKernel64);
  Put<uint32_t>(image, zp::kCmdlineSize, 2047);
  Put<uint64_t>(image, 0x258, 0x1000000);  // pref_address
  Put<uint32_t>(image, zp::kInitSize, 0x200000);
  std::memset(image.data() + 1024, 0xab, payload);
  return image;
}

std::vector<uint8_t> MakeElf(uint64_t paddr, uint64_t filesz, uint64_t memsz,
                             uint16_t machine = EM_X86_64) {
  std::vector<uint8_t> image(sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + filesz, 0);
  Elf64_Ehdr ehdr{};
  std::memcpy(ehdr.e_ident, ELFMAG, SELFMAG);
  ehdr.e_ident[EI_CLASS] = ELFCLASS64;
  ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
  ehdr.e_machine = machine;
  ehdr.e_entry = paddr + 0x40;
  ehdr.e_phoff = sizeof(Elf64_Ehdr);
  ehdr.e_phentsize = sizeof(Elf64_Phdr);
  ehdr.e_phnum = 1;
  Elf64_Phdr phdr{};
  phdr.p_type = PT_LOAD;
  phdr.p_offset = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
  phdr.p_paddr = paddr;
  phdr.p_filesz = filesz;
  phdr.p_memsz = memsz;
  std::memcpy(image.data(), &ehdr, sizeof ehdr);
  std::memcpy(image.data() + sizeof ehdr, &phdr, sizeof phdr);
  std::memset(image.data() + phdr.p_offset, 0xcd, filesz);
  return image;
}

TEST(X86KernelLoader, LoadsBzImagePayloadAtOneMiBAndEntersAtStartup64) {
  GuestMemory memory = MakeMemory(64 * kMiB);
  const auto image = MakeBzImage();
  const LoadedKernel kernel = LoadKernelImage(memory, image, "k");
  EXPECT_TRUE(kernel.bzimage);
  EXPECT_EQ(kernel.entry, kHighMemoryStart + 0x200);
  EXPECT_EQ(memory.ReadObj<uint8_t>(kHighMemoryStart), 0xab);
  EXPECT_EQ(memory.ReadObj<uint8_t>(kHighMemoryStart + 4095), 0xab);
  EXPECT_EQ(memory.ReadObj<uint8_t>(kHighMemoryStart + 4096), 0);
  EXPECT_EQ(kernel.cmdline_max, 2047u);
  EXPECT_EQ(kernel.end, 0x1000000u + 0x200000u);  // pref_address + init_size
  EXPECT_EQ(kernel.setup_header.size(), 0x268u - 0x1f1u);
}

TEST(X86KernelLoader, ZeroPageCarriesHeaderCmdlineInitrdAndE820) {
  GuestMemory memory = MakeMemory(64 * kMiB);
  const auto kernel = LoadKernelImage(memory, MakeBzImage(), "k");
  ZeroPageInputs in;
  in.cmdline_address = kCmdlineAddress;
  in.initrd_address = 0x3000000;
  in.initrd_size = 0x12345;
  in.e820 = BuildE820({{0, 64 * kMiB}});
  const ZeroPage page = BuildZeroPage(kernel, in);
  EXPECT_EQ(page.Get<uint16_t>(zp::kBootFlag), zp::kBootFlagMagic);
  EXPECT_EQ(page.Get<uint32_t>(zp::kHeader), zp::kHeaderMagic);
  EXPECT_EQ(page.Get<uint16_t>(zp::kVersion), 0x020f);
  EXPECT_EQ(page.Get<uint8_t>(zp::kTypeOfLoader), 0xff);
  EXPECT_EQ(page.Get<uint8_t>(zp::kLoadFlags) & (zp::kLoadedHigh | zp::kCanUseHeap),
            zp::kLoadedHigh | zp::kCanUseHeap);
  EXPECT_EQ(page.Get<uint32_t>(zp::kCmdLinePtr), kCmdlineAddress);
  EXPECT_EQ(page.Get<uint32_t>(zp::kExtCmdLinePtr), 0u);
  EXPECT_EQ(page.Get<uint32_t>(zp::kRamdiskImage), 0x3000000u);
  EXPECT_EQ(page.Get<uint32_t>(zp::kRamdiskSize), 0x12345u);
  const auto e820 = page.GetE820();
  ASSERT_EQ(e820.size(), 2u);
  EXPECT_EQ(page.Get<uint8_t>(zp::kE820Entries), 2);
  EXPECT_EQ(e820[0].address, 0u);
  EXPECT_EQ(e820[0].size, kEbdaStart);
  EXPECT_EQ(e820[1].address, kHighMemoryStart);
  EXPECT_EQ(e820[1].size, 64 * kMiB - kHighMemoryStart);
  EXPECT_EQ(e820[1].type, E820Type::kRam);
}

TEST(X86KernelLoader, E820CoversMemoryAboveTheHole) {
  const auto e820 = BuildE820({{0, kMmioGapStart}, {kMmioGapEnd, 512 * kMiB}});
  ASSERT_EQ(e820.size(), 3u);
  EXPECT_EQ(e820[1].address + e820[1].size, kMmioGapStart);
  EXPECT_EQ(e820[2].address, kMmioGapEnd);
  EXPECT_EQ(e820[2].size, 512 * kMiB);
}

TEST(X86KernelLoader, RejectsBadBzImages) {
  GuestMemory memory = MakeMemory(64 * kMiB);
  auto expect_error = [&](std::vector<uint8_t> image, const char* words) {
    try {
      LoadKernelImage(memory, image, "kernel image /k");
      ADD_FAILURE() << "no error for " << words;
    } catch (const arch::BootError& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("/k"), std::string::npos) << e.what();
    }
  };
  auto no_magic = MakeBzImage();
  Put<uint32_t>(no_magic, zp::kHeader, 0);
  expect_error(no_magic, "not a Linux kernel");
  auto old = MakeBzImage();
  Put<uint16_t>(old, zp::kVersion, 0x0204);
  expect_error(old, "too old");
  auto no64 = MakeBzImage();
  Put<uint16_t>(no64, zp::kXLoadFlags, 0);
  expect_error(no64, "64-bit");
  auto image = MakeBzImage();
  expect_error(std::vector<uint8_t>(image.begin(), image.begin() + 0x210), "truncated");
  expect_error(std::vector<uint8_t>(image.begin(), image.begin() + 1024), "truncated");
  expect_error({}, "empty");
}

TEST(X86KernelLoader, RejectsKernelThatDoesNotFitInMemory) {
  GuestMemory memory = MakeMemory(16 * kMiB);  // decompression needs up to 18 MiB
  EXPECT_THROW(LoadKernelImage(memory, MakeBzImage(), "k"), arch::BootError);
}

TEST(X86KernelLoader, RejectsPreferredAddressBeyondMemory) {
  GuestMemory memory = MakeMemory(64 * kMiB);
  auto image = MakeBzImage();
  Put<uint64_t>(image, 0x258, ~uint64_t{0} - kMiB);  // would wrap the end computation
  EXPECT_THROW(LoadKernelImage(memory, image, "k"), arch::BootError);
}

TEST(X86KernelLoader, LoadsElfSegmentsAtPhysicalAddress) {
  GuestMemory memory = MakeMemory(64 * kMiB);
  const auto kernel = LoadKernelImage(memory, MakeElf(0x1000000, 0x100, 0x2000), "k");
  EXPECT_FALSE(kernel.bzimage);
  EXPECT_EQ(kernel.entry, 0x1000040u);
  EXPECT_EQ(kernel.end, 0x1002000u);
  EXPECT_EQ(memory.ReadObj<uint8_t>(0x10000ff), 0xcd);
  EXPECT_EQ(memory.ReadObj<uint8_t>(0x1000100), 0);  // .bss stays zero
  const ZeroPage page = BuildZeroPage(kernel, {});
  EXPECT_EQ(page.Get<uint16_t>(zp::kBootFlag), zp::kBootFlagMagic);
  EXPECT_EQ(page.Get<uint32_t>(zp::kHeader), zp::kHeaderMagic);
}

TEST(X86KernelLoader, RejectsBadElf) {
  GuestMemory memory = MakeMemory(64 * kMiB);
  EXPECT_THROW(LoadKernelImage(memory, MakeElf(0x1000000, 0x100, 0x100, EM_AARCH64), "k"),
               arch::BootError);
  EXPECT_THROW(LoadKernelImage(memory, MakeElf(0x1000000, 0x100, 0x10), "k"), arch::BootError);
  EXPECT_THROW(LoadKernelImage(memory, MakeElf(63 * kMiB, 0x100, 2 * kMiB), "k"), arch::BootError);
  auto truncated = MakeElf(0x1000000, 0x100, 0x100);
  truncated.resize(truncated.size() - 1);
  EXPECT_THROW(LoadKernelImage(memory, truncated, "k"), arch::BootError);
}

TEST(X86KernelLoader, PlacesInitrdHighAndPageAligned) {
  EXPECT_EQ(PlaceInitrd(0x1800, 0x2000000, 0x4000000, 0x7fffffff), 0x4000000u - 0x2000);
  EXPECT_EQ(PlaceInitrd(0x1000, 0x2000000, 0x4000000, 0x2ffffff), 0x3000000u - 0x1000);
  EXPECT_FALSE(
      PlaceInitrd(0x3000000, 0x2000000, 0x4000000, 0x7fffffff).has_value());  // overlaps the kernel
  EXPECT_FALSE(PlaceInitrd(0x5000000, 0, 0x4000000, 0x7fffffff).has_value());  // larger than RAM
}

}  // namespace
}  // namespace hull::vmm::x86
#endif
