// Test doubles for virtio devices: a fake interrupt line, and a fake driver
// that lays out a split virtqueue in fake guest memory the way the Linux
// driver does (descriptor table, available ring, used ring) and can also
// write the hostile layouts a broken or malicious guest might.
#pragma once

#include <linux/virtio_mmio.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "bus/io_handler.h"
#include "bus/irq.h"
#include "memory/guest_memory.h"
#include "virtio/queue.h"
#include "virtio/ring_layout.h"

namespace hull::vmm::testing {

// A shared_ptr that does not own `x` (for test fixtures that own by value).
template <typename T>
std::shared_ptr<T> Unowned(T& x) {
  return std::shared_ptr<T>(std::shared_ptr<T>(), &x);
}

class FakeIrq : public IrqLine {
 public:
  void Trigger() override { ++count; }
  std::atomic<int> count{0};
};

struct FakeBuffer {
  uint64_t addr;
  uint32_t len;
  bool writable;
};

// One virtqueue's rings at `base` (desc, then avail, then used, 4 KiB apart
// at most) inside `memory`.
class FakeQueue {
 public:
  FakeQueue(const GuestMemory& memory, uint64_t base, uint16_t size)
      : mem_(memory), size_(size), desc_(base), avail_(base + 16ull * size),
        used_((avail_ + 6 + 2ull * size + 3) & ~3ull) {}

  uint64_t desc_addr() const { return desc_; }
  uint64_t avail_addr() const { return avail_; }
  uint64_t used_addr() const { return used_; }
  uint64_t end() const { return used_ + 6 + 8ull * size_; }
  uint16_t size() const { return size_; }

  // Points the device-side queue at these rings (as the transport would).
  void Configure(virtio::Queue& q) const {
    q.size = size_;
    q.desc_addr = desc_;
    q.avail_addr = avail_;
    q.used_addr = used_;
    q.ready = true;
  }

  void WriteDesc(uint16_t index, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) const {
    WriteDescAt(desc_ + 16ull * index, addr, len, flags, next);
  }
  void WriteDescAt(uint64_t at, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) const {
    virtio::RingDescriptor d{};
    d.addr = addr;
    d.len = len;
    d.flags = flags;
    d.next = next;
    mem_.WriteObj(at, d);
  }

  // Makes `head` available and bumps avail->idx.
  void Publish(uint16_t head) {
    mem_.WriteObj<uint16_t>(avail_ + 4 + 2ull * (avail_idx_ % size_), head);
    ++avail_idx_;
    mem_.WriteObj<uint16_t>(avail_ + 2, avail_idx_);
  }
  void SetAvailIdx(uint16_t idx) {
    avail_idx_ = idx;
    mem_.WriteObj<uint16_t>(avail_ + 2, idx);
  }

  // Writes `bufs` as a chain in consecutive descriptor slots (round robin)
  // and publishes it; returns the head.
  uint16_t AddChain(const std::vector<FakeBuffer>& bufs) {
    const uint16_t head = next_desc_;
    for (size_t i = 0; i < bufs.size(); ++i) {
      const uint16_t index = static_cast<uint16_t>((head + i) % size_);
      const bool last = i + 1 == bufs.size();
      WriteDesc(index, bufs[i].addr, bufs[i].len,
                static_cast<uint16_t>((last ? 0 : virtio::kDescFlagNext) | (bufs[i].writable ? virtio::kDescFlagWrite : 0)),
                static_cast<uint16_t>((index + 1) % size_));
    }
    next_desc_ = static_cast<uint16_t>((head + bufs.size()) % size_);
    Publish(head);
    return head;
  }

  // Writes `bufs` as an indirect table at `table` and publishes one
  // descriptor pointing at it.
  uint16_t AddIndirectChain(uint64_t table, const std::vector<FakeBuffer>& bufs) {
    for (size_t i = 0; i < bufs.size(); ++i) {
      const bool last = i + 1 == bufs.size();
      WriteDescAt(table + 16 * i, bufs[i].addr, bufs[i].len,
                  static_cast<uint16_t>((last ? 0 : virtio::kDescFlagNext) | (bufs[i].writable ? virtio::kDescFlagWrite : 0)),
                  static_cast<uint16_t>(i + 1));
    }
    const uint16_t head = next_desc_;
    WriteDesc(head, table, static_cast<uint32_t>(16 * bufs.size()), virtio::kDescFlagIndirect, 0);
    next_desc_ = static_cast<uint16_t>((head + 1) % size_);
    Publish(head);
    return head;
  }

  uint16_t used_idx() const { return *mem_.ReadObj<uint16_t>(used_ + 2); }
  virtio::UsedElement used_elem(uint16_t i) const {
    return *mem_.ReadObj<virtio::UsedElement>(used_ + 4 + 8ull * (i % size_));
  }
  uint16_t avail_event() const { return *mem_.ReadObj<uint16_t>(used_ + 4 + 8ull * size_); }
  void SetUsedEvent(uint16_t v) const { mem_.WriteObj<uint16_t>(avail_ + 4 + 2ull * size_, v); }
  void SetAvailFlags(uint16_t f) const { mem_.WriteObj<uint16_t>(avail_, f); }

 private:
  const GuestMemory& mem_;
  uint16_t size_;
  uint64_t desc_, avail_, used_;
  uint16_t avail_idx_ = 0;
  uint16_t next_desc_ = 0;
};

// Drives a virtio-mmio register window like the Linux driver's probe.
class FakeMmioDriver {
 public:
  explicit FakeMmioDriver(IoHandler& dev) : dev_(dev) {}

  uint32_t Read32(uint64_t off) {
    uint32_t v = 0;
    dev_.Read(off, {reinterpret_cast<uint8_t*>(&v), 4});
    return v;
  }
  void Write32(uint64_t off, uint32_t v) { dev_.Write(off, {reinterpret_cast<const uint8_t*>(&v), 4}); }

  uint64_t DeviceFeatures() {
    Write32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    uint64_t f = Read32(VIRTIO_MMIO_DEVICE_FEATURES);
    Write32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    return f | (uint64_t{Read32(VIRTIO_MMIO_DEVICE_FEATURES)} << 32);
  }
  // Reset, ACK, DRIVER, features, FEATURES_OK; returns whether FEATURES_OK stuck.
  bool Negotiate(uint64_t features) {
    Write32(VIRTIO_MMIO_STATUS, 0);
    Write32(VIRTIO_MMIO_STATUS, 1);
    Write32(VIRTIO_MMIO_STATUS, 1 | 2);
    Write32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    Write32(VIRTIO_MMIO_DRIVER_FEATURES, static_cast<uint32_t>(features));
    Write32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    Write32(VIRTIO_MMIO_DRIVER_FEATURES, static_cast<uint32_t>(features >> 32));
    Write32(VIRTIO_MMIO_STATUS, 1 | 2 | 8);
    return (Read32(VIRTIO_MMIO_STATUS) & 8) != 0;
  }
  void SetupQueue(uint32_t index, const FakeQueue& q) {
    Write32(VIRTIO_MMIO_QUEUE_SEL, index);
    Write32(VIRTIO_MMIO_QUEUE_NUM, q.size());
    Write32(VIRTIO_MMIO_QUEUE_DESC_LOW, static_cast<uint32_t>(q.desc_addr()));
    Write32(VIRTIO_MMIO_QUEUE_DESC_HIGH, static_cast<uint32_t>(q.desc_addr() >> 32));
    Write32(VIRTIO_MMIO_QUEUE_AVAIL_LOW, static_cast<uint32_t>(q.avail_addr()));
    Write32(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, static_cast<uint32_t>(q.avail_addr() >> 32));
    Write32(VIRTIO_MMIO_QUEUE_USED_LOW, static_cast<uint32_t>(q.used_addr()));
    Write32(VIRTIO_MMIO_QUEUE_USED_HIGH, static_cast<uint32_t>(q.used_addr() >> 32));
    Write32(VIRTIO_MMIO_QUEUE_READY, 1);
  }
  void DriverOk() { Write32(VIRTIO_MMIO_STATUS, 1 | 2 | 8 | 4); }
  void Notify(uint32_t queue) { Write32(VIRTIO_MMIO_QUEUE_NOTIFY, queue); }
  uint32_t Status() { return Read32(VIRTIO_MMIO_STATUS); }

 private:
  IoHandler& dev_;
};

}  // namespace hull::vmm::testing
