// An address space (PIO or MMIO) mapping non-overlapping ranges to devices.
// Devices are registered while the VM is built; afterwards the map is only
// read, so vCPU threads dispatch without taking a lock (devices do their own
// locking).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

#include "bus/io_handler.h"

namespace hull::vmm {

class BusError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Bus {
 public:
  explicit Bus(std::string name) : name_(std::move(name)) {}

  // Maps [base, base + length) to `handler`. Throws BusError on overlap or an
  // empty/wrapping range.
  void Register(uint64_t base, uint64_t length, std::shared_ptr<IoHandler> handler);

  // Dispatch an access; false when no device claims `address` (or the access
  // crosses the end of the device's window). A false read leaves `data` zeroed.
  bool Read(uint64_t address, std::span<uint8_t> data) const;
  bool Write(uint64_t address, std::span<const uint8_t> data) const;

  const std::string& name() const { return name_; }

 private:
  struct Range {
    uint64_t length;
    std::shared_ptr<IoHandler> handler;
  };
  // Finds the device whose window holds [address, address+size); sets *offset.
  IoHandler* Find(uint64_t address, uint64_t size, uint64_t* offset) const;

  std::string name_;
  std::map<uint64_t, Range> ranges_;  // keyed by base
};

}  // namespace hull::vmm
