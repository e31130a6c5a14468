// The one interface for anything on the PIO or MMIO bus (Fuchsia's IoHandler,
// Firecracker's BusDevice): the bus strips the device's base address, so a
// device only ever sees offsets into its own window.
#pragma once

#include <cstdint>
#include <span>

namespace hull::vmm {

class IoHandler {
 public:
  virtual ~IoHandler() = default;
  // Fill `data` (1, 2, 4 or 8 bytes) with the value at `offset`. Unhandled
  // registers read as zero; the caller pre-zeroes `data`.
  virtual void Read(uint64_t offset, std::span<uint8_t> data) = 0;
  // Guest wrote `data` at `offset`. Writes to unknown registers are ignored.
  virtual void Write(uint64_t offset, std::span<const uint8_t> data) = 0;
};

}  // namespace hull::vmm
