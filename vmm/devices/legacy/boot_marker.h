// The boot-time marker (as in Firecracker): the guest's init writes the byte
// 123 to a well-known MMIO address; the VMM notes the moment.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "bus/io_handler.h"

namespace hull::vmm::devices {

class BootMarker : public IoHandler {
 public:
  static constexpr uint8_t kMagic = 123;
  explicit BootMarker(std::function<void()> on_marker) : on_marker_(std::move(on_marker)) {}

  void Read(uint64_t, std::span<uint8_t>) override {}
  void Write(uint64_t offset, std::span<const uint8_t> data) override {
    if (offset == 0 && !data.empty() && data[0] == kMagic && on_marker_) on_marker_();
  }

 private:
  std::function<void()> on_marker_;
};

}  // namespace hull::vmm::devices
