#include "virtio/descriptor_chain.h"

#include <algorithm>
#include <cstring>

namespace hull::vmm::virtio {
namespace {

// Walks `parts` as one byte stream and calls copy(part_span, bytes) for the
// stretch starting at `offset`; returns the bytes covered.
template <typename Copy>
size_t Walk(const std::vector<std::span<uint8_t>>& parts, uint64_t offset, size_t want, Copy copy) {
  size_t done = 0;
  for (const auto& part : parts) {
    if (done == want) break;
    if (offset >= part.size()) {
      offset -= part.size();
      continue;
    }
    const size_t n = std::min<uint64_t>(part.size() - offset, want - done);
    copy(part.subspan(offset, n), done);
    done += n;
    offset = 0;
  }
  return done;
}

}  // namespace

size_t DescriptorChain::CopyFromReadable(uint64_t offset, std::span<uint8_t> out) const {
  return Walk(readable_, offset, out.size(),
              [&](std::span<uint8_t> src, size_t at) { std::memcpy(out.data() + at, src.data(), src.size()); });
}

size_t DescriptorChain::CopyToWritable(uint64_t offset, std::span<const uint8_t> in) const {
  return Walk(writable_, offset, in.size(),
              [&](std::span<uint8_t> dst, size_t at) { std::memcpy(dst.data(), in.data() + at, dst.size()); });
}

}  // namespace hull::vmm::virtio
