// <linux/kvm.h> declares the variable-length ioctl arguments (kvm_cpuid2,
// kvm_msrs) with __DECLARE_FLEX_ARRAY, which in C++ adds an empty struct:
// the entries land at offset 12 instead of 8 and the ioctl numbers encode
// size 12, so the kernel answers EINVAL. These are the kernel's real layouts
// (an 8-byte header, then the entries) and the ioctl numbers computed from it.
#pragma once

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace hull::vmm::kvm {

struct FlexHeader {
  uint32_t count;  // nent / nmsrs
  uint32_t padding;
};
static_assert(sizeof(FlexHeader) == 8);

#if defined(__x86_64__)
inline constexpr unsigned long kGetSupportedCpuid = _IOWR(KVMIO, 0x05, FlexHeader);
inline constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, FlexHeader);
inline constexpr unsigned long kSetMsrs = _IOW(KVMIO, 0x89, FlexHeader);
#endif

// A header followed by `entries` of T, ready to pass to ioctl.
template <typename T>
std::vector<uint8_t> FlexBuffer(const std::vector<T>& entries, uint32_t capacity) {
  std::vector<uint8_t> buffer(sizeof(FlexHeader) + capacity * sizeof(T));
  FlexHeader header{capacity, 0};
  std::memcpy(buffer.data(), &header, sizeof header);
  if (!entries.empty())
    std::memcpy(buffer.data() + sizeof header, entries.data(), entries.size() * sizeof(T));
  return buffer;
}

template <typename T>
std::vector<T> FlexEntries(const std::vector<uint8_t>& buffer) {
  FlexHeader header;
  std::memcpy(&header, buffer.data(), sizeof header);
  std::vector<T> out(header.count);
  std::memcpy(out.data(), buffer.data() + sizeof header, header.count * sizeof(T));
  return out;
}

}  // namespace hull::vmm::kvm
