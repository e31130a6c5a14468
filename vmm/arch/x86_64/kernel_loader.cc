#include "arch/x86_64/kernel_loader.h"

#include <elf.h>

#include <algorithm>
#include <cstring>

#include "arch/arch.h"
#include "arch/x86_64/layout.h"

namespace hull::vmm::x86 {
namespace {

using arch::BootError;

template <typename T>
T ReadAt(std::span<const uint8_t> image, uint64_t offset, const std::string& what,
         const char* field) {
  if (offset > image.size() || sizeof(T) > image.size() - offset) {
    throw BootError(what + ": truncated (the " + field + " lies beyond the end of the file)");
  }
  T value;
  std::memcpy(&value, image.data() + offset, sizeof(T));
  return value;
}

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

void CopyIntoGuest(const GuestMemory& memory, uint64_t address, std::span<const uint8_t> bytes,
                   const std::string& what) {
  if (!memory.Write(address, bytes)) {
    throw BootError(what + ": the kernel needs guest memory " + Hex(address) + "+" +
                    Hex(bytes.size()) + ", which is beyond guest RAM (give the VM more memory)");
  }
}

LoadedKernel LoadBzImage(const GuestMemory& memory, std::span<const uint8_t> image,
                         const std::string& what) {
  LoadedKernel kernel;
  kernel.bzimage = true;
  if (ReadAt<uint16_t>(image, zp::kBootFlag, what, "boot flag") != zp::kBootFlagMagic ||
      ReadAt<uint32_t>(image, zp::kHeader, what, "header") != zp::kHeaderMagic) {
    throw BootError(what + ": not a Linux kernel (no bzImage \"HdrS\" header and no ELF magic)");
  }
  const uint16_t version = ReadAt<uint16_t>(image, zp::kVersion, what, "boot protocol version");
  if (version < 0x020c) {
    throw BootError(what + ": boot protocol " + Hex(version) +
                    " is too old; hull needs 2.12+ (64-bit entry, Linux 3.8 or newer)");
  }
  if ((ReadAt<uint16_t>(image, zp::kXLoadFlags, what, "xloadflags") & zp::kXlfKernel64) == 0) {
    throw BootError(
        what + ": this bzImage has no 64-bit entry point (XLF_KERNEL_64); build an x86_64 kernel");
  }
  uint32_t setup_sects = ReadAt<uint8_t>(image, zp::kSetupSects, what, "setup_sects");
  if (setup_sects == 0) setup_sects = 4;
  const uint64_t payload_offset = (setup_sects + 1) * 512ull;
  if (payload_offset >= image.size())
    throw BootError(what + ": truncated (no protected-mode kernel after the setup code)");
  const uint64_t header_end = 0x202 + ReadAt<uint8_t>(image, zp::kJump + 1, what, "jump");
  if (header_end > payload_offset || header_end > ZeroPage::kSize)
    throw BootError(what + ": corrupt setup header length");
  kernel.setup_header.assign(image.begin() + zp::kSetupHeader,
                             image.begin() + static_cast<long>(header_end));

  const auto payload = image.subspan(payload_offset);
  CopyIntoGuest(memory, kHighMemoryStart, payload, what);
  kernel.entry = kHighMemoryStart + 0x200;  // startup_64
  kernel.initrd_addr_max = ReadAt<uint32_t>(image, zp::kInitrdAddrMax, what, "initrd_addr_max");
  kernel.cmdline_max = ReadAt<uint32_t>(image, zp::kCmdlineSize, what, "cmdline_size");
  // The decompressor unpacks to pref_address (LOAD_PHYSICAL_ADDR) and needs init_size from there.
  const uint64_t pref_address = ReadAt<uint64_t>(image, 0x258, what, "pref_address");
  const uint32_t init_size = ReadAt<uint32_t>(image, zp::kInitSize, what, "init_size");
  if (pref_address > memory.end()) {  // also keeps the sum below from wrapping
    throw BootError(what + ": the kernel wants to run at " + Hex(pref_address) +
                    ", beyond guest RAM; give the VM more memory");
  }
  kernel.end = std::max(kHighMemoryStart + payload.size(),
                        std::max(pref_address, kHighMemoryStart) + init_size);
  if (!memory.Contains(kHighMemoryStart, kernel.end - kHighMemoryStart)) {
    throw BootError(what + ": the kernel needs guest RAM up to " + Hex(kernel.end) +
                    " to decompress itself; give the VM more memory");
  }
  return kernel;
}

LoadedKernel LoadElf(const GuestMemory& memory, std::span<const uint8_t> image,
                     const std::string& what) {
  const auto ehdr = ReadAt<Elf64_Ehdr>(image, 0, what, "ELF header");
  if (ehdr.e_ident[EI_CLASS] != ELFCLASS64 || ehdr.e_ident[EI_DATA] != ELFDATA2LSB) {
    throw BootError(what + ": not a 64-bit little-endian ELF; hull boots x86_64 kernels");
  }
  if (ehdr.e_machine != EM_X86_64)
    throw BootError(what + ": ELF for another machine (e_machine " +
                    std::to_string(ehdr.e_machine) + "), not x86_64");
  if (ehdr.e_phentsize != sizeof(Elf64_Phdr))
    throw BootError(what + ": corrupt ELF (odd program header size)");
  if (ehdr.e_phnum == 0) throw BootError(what + ": ELF has no program headers");
  LoadedKernel kernel;
  bool loaded = false;
  for (uint16_t i = 0; i < ehdr.e_phnum; ++i) {
    const auto phdr = ReadAt<Elf64_Phdr>(image, ehdr.e_phoff + uint64_t{i} * sizeof(Elf64_Phdr),
                                         what, "program header");
    if (phdr.p_type != PT_LOAD) continue;
    if (phdr.p_offset > image.size() || phdr.p_filesz > image.size() - phdr.p_offset) {
      throw BootError(what + ": truncated (segment " + std::to_string(i) +
                      " lies beyond the end of the file)");
    }
    if (phdr.p_memsz < phdr.p_filesz)
      throw BootError(what + ": corrupt ELF (segment memory size below its file size)");
    if (!memory.Contains(phdr.p_paddr, phdr.p_memsz)) {
      throw BootError(what + ": segment at " + Hex(phdr.p_paddr) + "+" + Hex(phdr.p_memsz) +
                      " is outside guest RAM (give the VM more memory)");
    }
    CopyIntoGuest(memory, phdr.p_paddr, image.subspan(phdr.p_offset, phdr.p_filesz), what);
    // Guest RAM starts zeroed, so .bss (p_memsz beyond p_filesz) needs no work.
    kernel.end = std::max(kernel.end, phdr.p_paddr + phdr.p_memsz);
    loaded = true;
  }
  if (!loaded) throw BootError(what + ": ELF has no loadable segment");
  kernel.entry = ehdr.e_entry;
  if (!memory.Contains(kernel.entry, 1))
    throw BootError(what + ": ELF entry point " + Hex(kernel.entry) + " is not in guest RAM");
  return kernel;
}

}  // namespace

LoadedKernel LoadKernelImage(const GuestMemory& memory, std::span<const uint8_t> image,
                             const std::string& what) {
  if (image.empty()) throw BootError(what + ": file is empty");
  if (image.size() >= 4 && std::memcmp(image.data(), ELFMAG, SELFMAG) == 0)
    return LoadElf(memory, image, what);
  return LoadBzImage(memory, image, what);
}

std::optional<uint64_t> PlaceInitrd(uint64_t size, uint64_t kernel_end, uint64_t low_ram_end,
                                    uint64_t initrd_addr_max) {
  const uint64_t limit = std::min(low_ram_end, initrd_addr_max + 1);
  if (size > limit) return std::nullopt;
  const uint64_t address = (limit - size) & ~uint64_t{0xfff};
  if (address < kernel_end) return std::nullopt;
  return address;
}

std::vector<E820Entry> BuildE820(const std::vector<std::pair<uint64_t, uint64_t>>& ram_regions) {
  std::vector<E820Entry> entries;
  for (const auto& [base, size] : ram_regions) {
    const uint64_t end = base + size;
    if (base < kHighMemoryStart) {
      const uint64_t low_end = std::min(end, kEbdaStart);
      if (low_end > base) entries.push_back({base, low_end - base, E820Type::kRam});
      if (end > kHighMemoryStart)
        entries.push_back({kHighMemoryStart, end - kHighMemoryStart, E820Type::kRam});
    } else {
      entries.push_back({base, size, E820Type::kRam});
    }
  }
  return entries;
}

ZeroPage BuildZeroPage(const LoadedKernel& kernel, const ZeroPageInputs& in) {
  ZeroPage page;
  if (kernel.bzimage) {
    page.SetSetupHeader(kernel.setup_header);
  } else {
    // A vmlinux has no setup header: give the kernel the few fields it checks.
    page.Set<uint16_t>(zp::kBootFlag, zp::kBootFlagMagic);
    page.Set<uint32_t>(zp::kHeader, zp::kHeaderMagic);
    page.Set<uint32_t>(zp::kKernelAlignment, 0x01000000);
  }
  page.Set<uint8_t>(zp::kTypeOfLoader, zp::kUndefinedLoader);
  page.Set<uint8_t>(zp::kLoadFlags,
                    page.Get<uint8_t>(zp::kLoadFlags) | zp::kLoadedHigh | zp::kCanUseHeap);
  page.Set<uint16_t>(zp::kHeapEndPtr, 0xfe00);
  page.Set<uint32_t>(zp::kCmdLinePtr, static_cast<uint32_t>(in.cmdline_address));
  page.Set<uint32_t>(zp::kExtCmdLinePtr, static_cast<uint32_t>(in.cmdline_address >> 32));
  page.Set<uint32_t>(zp::kRamdiskImage, static_cast<uint32_t>(in.initrd_address));
  page.Set<uint32_t>(zp::kExtRamdiskImage, static_cast<uint32_t>(in.initrd_address >> 32));
  page.Set<uint32_t>(zp::kRamdiskSize, static_cast<uint32_t>(in.initrd_size));
  page.Set<uint32_t>(zp::kExtRamdiskSize, static_cast<uint32_t>(in.initrd_size >> 32));
  page.SetE820(in.e820);
  return page;
}

}  // namespace hull::vmm::x86
