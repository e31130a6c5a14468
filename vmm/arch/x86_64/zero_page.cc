#include "arch/x86_64/zero_page.h"

#include <algorithm>
#include <stdexcept>

namespace hull::vmm::x86 {

void ZeroPage::SetSetupHeader(std::span<const uint8_t> header) {
  if (header.size() > kSize - zp::kSetupHeader) throw std::length_error("setup header too long");
  std::memcpy(bytes_.data() + zp::kSetupHeader, header.data(), header.size());
}

void ZeroPage::SetE820(const std::vector<E820Entry>& entries) {
  if (entries.size() > zp::kE820MaxEntries) throw std::length_error("too many e820 entries");
  for (size_t i = 0; i < entries.size(); ++i) {
    const size_t at = zp::kE820Table + i * zp::kE820EntrySize;
    Set<uint64_t>(at, entries[i].address);
    Set<uint64_t>(at + 8, entries[i].size);
    Set<uint32_t>(at + 16, static_cast<uint32_t>(entries[i].type));
  }
  Set<uint8_t>(zp::kE820Entries, static_cast<uint8_t>(entries.size()));
}

std::vector<E820Entry> ZeroPage::GetE820() const {
  std::vector<E820Entry> out;
  const size_t n = std::min<size_t>(Get<uint8_t>(zp::kE820Entries), zp::kE820MaxEntries);
  for (size_t i = 0; i < n; ++i) {
    const size_t at = zp::kE820Table + i * zp::kE820EntrySize;
    out.push_back(
        {Get<uint64_t>(at), Get<uint64_t>(at + 8), static_cast<E820Type>(Get<uint32_t>(at + 16))});
  }
  return out;
}

}  // namespace hull::vmm::x86
