// struct boot_params ("zero page") of the Linux x86 boot protocol
// (Documentation/arch/x86/boot.rst, zero-page.rst), written by field offset
// so that every field is visible and testable.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

namespace hull::vmm::x86 {

namespace zp {  // offsets inside boot_params
inline constexpr size_t kExtRamdiskImage = 0x0c0;
inline constexpr size_t kExtRamdiskSize = 0x0c4;
inline constexpr size_t kExtCmdLinePtr = 0x0c8;
inline constexpr size_t kE820Entries = 0x1e8;
inline constexpr size_t kSetupHeader = 0x1f1;  // struct setup_header starts here
inline constexpr size_t kSetupSects = 0x1f1;
inline constexpr size_t kBootFlag = 0x1fe;
inline constexpr size_t kJump = 0x200;
inline constexpr size_t kHeader = 0x202;
inline constexpr size_t kVersion = 0x206;
inline constexpr size_t kTypeOfLoader = 0x210;
inline constexpr size_t kLoadFlags = 0x211;
inline constexpr size_t kRamdiskImage = 0x218;
inline constexpr size_t kRamdiskSize = 0x21c;
inline constexpr size_t kHeapEndPtr = 0x224;
inline constexpr size_t kCmdLinePtr = 0x228;
inline constexpr size_t kInitrdAddrMax = 0x22c;
inline constexpr size_t kKernelAlignment = 0x230;
inline constexpr size_t kRelocatableKernel = 0x234;
inline constexpr size_t kXLoadFlags = 0x236;
inline constexpr size_t kCmdlineSize = 0x238;
inline constexpr size_t kInitSize = 0x260;
inline constexpr size_t kE820Table = 0x2d0;
inline constexpr size_t kE820MaxEntries = 128;
inline constexpr size_t kE820EntrySize = 20;  // packed {u64 addr, u64 size, u32 type}

inline constexpr uint16_t kBootFlagMagic = 0xaa55;
inline constexpr uint32_t kHeaderMagic = 0x53726448;  // "HdrS"
inline constexpr uint8_t kLoadedHigh = 0x01;
inline constexpr uint8_t kCanUseHeap = 0x80;
inline constexpr uint16_t kXlfKernel64 = 0x01;
inline constexpr uint8_t kUndefinedLoader = 0xff;
}  // namespace zp

enum class E820Type : uint32_t { kRam = 1, kReserved = 2 };

struct E820Entry {
  uint64_t address;
  uint64_t size;
  E820Type type;
};

class ZeroPage {
 public:
  static constexpr size_t kSize = 4096;

  template <typename T>
  void Set(size_t offset, T value) {
    static_assert(std::is_integral_v<T>);
    std::memcpy(bytes_.data() + offset, &value, sizeof(T));
  }
  template <typename T>
  T Get(size_t offset) const {
    static_assert(std::is_integral_v<T>);
    T value;
    std::memcpy(&value, bytes_.data() + offset, sizeof(T));
    return value;
  }
  // Copies a kernel image's setup header (bytes from 0x1f1) in place.
  void SetSetupHeader(std::span<const uint8_t> header);
  // Throws std::length_error beyond kE820MaxEntries.
  void SetE820(const std::vector<E820Entry>& entries);
  std::vector<E820Entry> GetE820() const;

  std::span<const uint8_t> bytes() const { return bytes_; }

 private:
  std::array<uint8_t, kSize> bytes_{};
};

}  // namespace hull::vmm::x86
