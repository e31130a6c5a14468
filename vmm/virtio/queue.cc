#include "virtio/queue.h"

#include <atomic>
#include <bit>
#include <cstdio>
#include <cstring>
#include <string>

#include "virtio/ring_layout.h"
#include "virtio/virtio_error.h"

namespace hull::vmm::virtio {
namespace {

static_assert(std::endian::native == std::endian::little,
              "virtio 1.x rings are little-endian; a big-endian host needs byte swaps here");

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Ring fields shared with the driver's CPU: aligned 16-bit atomics.
uint16_t LoadU16(std::span<uint8_t> area, size_t offset, std::memory_order order) {
  return std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(area.data() + offset)).load(order);
}
void StoreU16(std::span<uint8_t> area, size_t offset, uint16_t v, std::memory_order order) {
  std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(area.data() + offset)).store(v, order);
}

std::span<uint8_t> MapRing(const GuestMemory& memory, uint64_t addr, uint64_t length, uint64_t align,
                           const char* what) {
  if (addr % align != 0) {
    throw VirtioError(std::string("virtqueue ") + what + " at " + Hex(addr) + " is not " +
                      std::to_string(align) + "-byte aligned");
  }
  auto span = memory.Translate(addr, length);
  if (!span) {
    throw VirtioError(std::string("virtqueue ") + what + " " + Hex(addr) + "+" + Hex(length) +
                      " is outside guest RAM");
  }
  return *span;
}

}  // namespace

Queue::Queue(uint16_t max_size) : max_size_(max_size) {
  if (max_size == 0 || max_size > kMaxQueueSize || !std::has_single_bit(max_size)) {
    throw VirtioError("device queue size " + std::to_string(max_size) + " must be a power of two up to " +
                      std::to_string(kMaxQueueSize));
  }
  Reset();
}

void Queue::Reset() {
  size = max_size_;
  ready = false;
  desc_addr = avail_addr = used_addr = 0;
  active_ = false;
  event_idx_ = false;
  memory_ = nullptr;
  desc_ = avail_ = used_ = {};
  next_avail_ = next_used_ = signalled_used_ = 0;
  signalled_used_valid_ = false;
}

void Queue::Activate(const GuestMemory& memory, bool event_idx) {
  if (size == 0 || size > max_size_ || !std::has_single_bit(size)) {
    throw VirtioError("virtqueue size " + std::to_string(size) + " is not a power of two between 1 and " +
                      std::to_string(max_size_));
  }
  desc_ = MapRing(memory, desc_addr, 16ull * size, 16, "descriptor table");
  avail_ = MapRing(memory, avail_addr, 6ull + 2ull * size, 2, "available ring");
  used_ = MapRing(memory, used_addr, 6ull + 8ull * size, 4, "used ring");
  memory_ = &memory;
  event_idx_ = event_idx;
  next_avail_ = next_used_ = signalled_used_ = 0;
  signalled_used_valid_ = false;
  active_ = true;
}

uint16_t Queue::LoadAvailIdx() const {
  // Acquire: the ring entries the driver published before idx are visible.
  return LoadU16(avail_, 2, std::memory_order_acquire);
}

uint16_t Queue::AvailableCount() const {
  if (!active_) return 0;
  return static_cast<uint16_t>(LoadAvailIdx() - next_avail_);
}

std::optional<DescriptorChain> Queue::Pop() {
  if (!active_) return std::nullopt;
  const uint16_t avail_idx = LoadAvailIdx();
  const uint16_t pending = static_cast<uint16_t>(avail_idx - next_avail_);
  if (pending == 0) return std::nullopt;
  if (pending > size) {
    throw VirtioError("available ring index " + std::to_string(avail_idx) + " is " + std::to_string(pending) +
                      " entries ahead of the device, more than the queue size " + std::to_string(size));
  }
  const size_t slot = next_avail_ & (size - 1u);
  const uint16_t head = LoadU16(avail_, 4 + 2 * slot, std::memory_order_relaxed);
  if (head >= size) {
    throw VirtioError("available ring entry names descriptor " + std::to_string(head) +
                      ", beyond the queue size " + std::to_string(size));
  }
  DescriptorChain chain(head);
  WalkChain(head, chain);
  ++next_avail_;
  return chain;
}

void Queue::AddBuffer(const RingDescriptor& d, DescriptorChain& chain, bool& seen_writable) const {
  if (d.len == 0) throw VirtioError("descriptor at " + Hex(d.addr) + " has length 0");
  auto span = memory_->Translate(d.addr, d.len);
  if (!span) {
    throw VirtioError("descriptor buffer " + Hex(d.addr) + "+" + Hex(d.len) + " is outside guest RAM");
  }
  if (d.flags & kDescFlagWrite) {
    seen_writable = true;
    chain.AddWritable(*span);
  } else {
    if (seen_writable) throw VirtioError("device-readable descriptor follows a device-writable one");
    chain.AddReadable(*span);
  }
}

void Queue::WalkChain(uint16_t head, DescriptorChain& chain) const {
  bool seen_writable = false;
  // The direct part: at most `size` descriptors, so a cycle ends here.
  uint16_t index = head;
  for (uint32_t count = 1;; ++count) {
    if (count > size) throw VirtioError("descriptor chain is longer than the queue size (a loop?)");
    if (index >= size) {
      throw VirtioError("descriptor chain links to index " + std::to_string(index) + ", beyond the queue size");
    }
    RingDescriptor d;
    std::memcpy(&d, desc_.data() + 16ull * index, sizeof d);
    if (d.flags & kDescFlagIndirect) {
      if (d.flags & kDescFlagNext) throw VirtioError("indirect descriptor also has the NEXT flag");
      if (d.len == 0 || d.len % 16 != 0 || d.len / 16 > kMaxIndirectDescriptors) {
        throw VirtioError("indirect descriptor table length " + std::to_string(d.len) +
                          " is not a multiple of 16 between 16 and " +
                          std::to_string(16 * kMaxIndirectDescriptors));
      }
      auto table = memory_->Translate(d.addr, d.len);
      if (!table) {
        throw VirtioError("indirect descriptor table " + Hex(d.addr) + "+" + Hex(d.len) +
                          " is outside guest RAM");
      }
      const uint32_t entries = d.len / 16;
      uint32_t at = 0;
      for (uint32_t n = 1;; ++n) {
        if (n > entries) throw VirtioError("indirect descriptor chain is longer than its table (a loop?)");
        RingDescriptor in;
        std::memcpy(&in, table->data() + 16ull * at, sizeof in);
        if (in.flags & kDescFlagIndirect) throw VirtioError("indirect descriptor inside an indirect table");
        AddBuffer(in, chain, seen_writable);
        if (!(in.flags & kDescFlagNext)) return;
        if (in.next >= entries) {
          throw VirtioError("indirect descriptor links to entry " + std::to_string(in.next) +
                            " of a table with " + std::to_string(entries));
        }
        at = in.next;
      }
    }
    AddBuffer(d, chain, seen_writable);
    if (!(d.flags & kDescFlagNext)) return;
    index = d.next;
  }
}

void Queue::AddUsed(uint16_t head, uint32_t written) {
  if (!active_) return;
  const size_t slot = next_used_ & (size - 1u);
  UsedElement elem{};
  elem.id = head;
  elem.len = written;
  std::memcpy(used_.data() + 4 + 8 * slot, &elem, sizeof elem);
  ++next_used_;
  // Release: the element is visible before the index that publishes it.
  StoreU16(used_, 2, next_used_, std::memory_order_release);
}

bool Queue::NeedsInterrupt() {
  if (!active_) return false;
  // Our used-idx store must be visible before we read the driver's wishes.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!event_idx_) {
    return (LoadU16(avail_, 0, std::memory_order_relaxed) & kAvailFlagNoInterrupt) == 0;
  }
  const uint16_t old = signalled_used_;
  const uint16_t now = next_used_;
  const bool valid = signalled_used_valid_;
  signalled_used_ = now;
  signalled_used_valid_ = true;
  if (!valid) return true;
  const uint16_t used_event = LoadU16(avail_, 4 + 2ull * size, std::memory_order_relaxed);
  // vring_need_event(): did `now` step past used_event since `old`?
  return static_cast<uint16_t>(now - used_event - 1) < static_cast<uint16_t>(now - old);
}

bool Queue::EnableNotification() {
  if (!active_) return false;
  if (event_idx_) {
    // "Notify me when you publish entry next_avail" (avail_event).
    StoreU16(used_, 4 + 8ull * size, next_avail_, std::memory_order_relaxed);
  } else {
    StoreU16(used_, 0, 0, std::memory_order_relaxed);  // clear VRING_USED_F_NO_NOTIFY
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return LoadAvailIdx() != next_avail_;
}

bool Queue::EnableNotificationForMore() {
  if (!active_) return false;
  const uint16_t posted = LoadAvailIdx();
  if (event_idx_) {
    // EnableNotification's avail_event (next_avail) may already lie behind
    // the driver's index here: it would never be crossed again.
    StoreU16(used_, 4 + 8ull * size, posted, std::memory_order_relaxed);
  } else {
    StoreU16(used_, 0, 0, std::memory_order_relaxed);
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return LoadAvailIdx() != posted;
}

}  // namespace hull::vmm::virtio
