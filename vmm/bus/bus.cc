#include "bus/bus.h"

#include <algorithm>
#include <cstdio>

namespace hull::vmm {
namespace {
std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}
}  // namespace

void Bus::Register(uint64_t base, uint64_t length, std::shared_ptr<IoHandler> handler) {
  if (length == 0 || base + length < base) {
    throw BusError(name_ + " bus: invalid range " + Hex(base) + "+" + Hex(length));
  }
  if (!handler) throw BusError(name_ + " bus: null device at " + Hex(base));
  auto next = ranges_.lower_bound(base);
  if (next != ranges_.end() && next->first < base + length) {
    throw BusError(name_ + " bus: range " + Hex(base) + "+" + Hex(length) +
                   " overlaps the device at " + Hex(next->first));
  }
  if (next != ranges_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second.length > base) {
      throw BusError(name_ + " bus: range " + Hex(base) + "+" + Hex(length) +
                     " overlaps the device at " + Hex(prev->first));
    }
  }
  ranges_.emplace(base, Range{length, std::move(handler)});
}

IoHandler* Bus::Find(uint64_t address, uint64_t size, uint64_t* offset) const {
  auto it = ranges_.upper_bound(address);
  if (it == ranges_.begin()) return nullptr;
  --it;
  const uint64_t off = address - it->first;
  if (off >= it->second.length || size > it->second.length - off) return nullptr;
  *offset = off;
  return it->second.handler.get();
}

bool Bus::Read(uint64_t address, std::span<uint8_t> data) const {
  std::fill(data.begin(), data.end(), 0);
  uint64_t offset = 0;
  IoHandler* device = Find(address, data.size(), &offset);
  if (device == nullptr) return false;
  device->Read(offset, data);
  return true;
}

bool Bus::Write(uint64_t address, std::span<const uint8_t> data) const {
  uint64_t offset = 0;
  IoHandler* device = Find(address, data.size(), &offset);
  if (device == nullptr) return false;
  device->Write(offset, data);
  return true;
}

}  // namespace hull::vmm
