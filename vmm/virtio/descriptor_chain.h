// One request popped from a virtqueue: its descriptors already walked,
// checked and translated to host spans, split into the device-readable part
// (driver -> device) and the device-writable part (device -> driver), in
// chain order. Spans point into guest RAM, which the guest may change at any
// time: copy what you parse before trusting it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace hull::vmm::virtio {

class DescriptorChain {
 public:
  explicit DescriptorChain(uint16_t head) : head_(head) {}

  uint16_t head() const { return head_; }
  const std::vector<std::span<uint8_t>>& readable() const { return readable_; }
  const std::vector<std::span<uint8_t>>& writable() const { return writable_; }
  uint64_t readable_bytes() const { return readable_bytes_; }
  uint64_t writable_bytes() const { return writable_bytes_; }

  // Copies up to out.size() bytes of the readable part starting at byte
  // `offset` (across descriptors); returns how many were copied.
  size_t CopyFromReadable(uint64_t offset, std::span<uint8_t> out) const;
  // Copies `in` into the writable part at byte `offset`; returns how many
  // bytes fitted.
  size_t CopyToWritable(uint64_t offset, std::span<const uint8_t> in) const;

  // Used while walking the chain (Queue::Pop).
  void AddReadable(std::span<uint8_t> s) {
    readable_.push_back(s);
    readable_bytes_ += s.size();
  }
  void AddWritable(std::span<uint8_t> s) {
    writable_.push_back(s);
    writable_bytes_ += s.size();
  }

 private:
  uint16_t head_;
  std::vector<std::span<uint8_t>> readable_;
  std::vector<std::span<uint8_t>> writable_;
  uint64_t readable_bytes_ = 0;
  uint64_t writable_bytes_ = 0;
};

}  // namespace hull::vmm::virtio
