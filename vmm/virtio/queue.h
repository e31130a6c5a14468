// A split virtqueue as the device sees it (virtio 1.x, 2.7): the driver's
// descriptor table, available ring and used ring in guest RAM, with
// VIRTIO_F_RING_INDIRECT_DESC and VIRTIO_F_RING_EVENT_IDX.
//
// Nothing the guest wrote is trusted: Activate() checks the ring addresses
// and the size once and keeps host views of exactly the ring bytes, so ring
// accesses cannot leave them; Pop() checks every descriptor (index, address
// and length inside guest RAM, no zero length, no nested indirect table,
// readable before writable, at most queue-size descriptors per chain so a
// loop ends) and the available index (never more than queue-size ahead).
// A violation throws VirtioError; the device then stops using the queue.
//
// Not thread-safe: the owning device serialises access (its mutex).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "memory/guest_memory.h"
#include "virtio/descriptor_chain.h"
#include "virtio/ring_layout.h"

namespace hull::vmm::virtio {

// Longest indirect table accepted (QEMU's VIRTQUEUE_MAX_SIZE; Linux never
// builds longer ones).
inline constexpr uint32_t kMaxIndirectDescriptors = 1024;
// Largest queue size a device may offer (virtio-mmio QueueNumMax is 16 bits).
inline constexpr uint16_t kMaxQueueSize = 32768;

class Queue {
 public:
  explicit Queue(uint16_t max_size);

  // --- configuration written by the driver through the transport ---
  uint16_t max_size() const { return max_size_; }
  uint16_t size = 0;
  bool ready = false;
  uint64_t desc_addr = 0;
  uint64_t avail_addr = 0;  // "driver area"
  uint64_t used_addr = 0;   // "device area"

  // Back to the state after a device reset (size = max_size, not ready).
  void Reset();

  // Checks the configuration against guest RAM and starts using the rings
  // from index 0. Throws VirtioError naming the bad value.
  void Activate(const GuestMemory& memory, bool event_idx);
  bool active() const { return active_; }

  // The next available chain, or nullopt when the driver has posted none.
  // Throws VirtioError for a malformed chain or ring.
  std::optional<DescriptorChain> Pop();
  // Puts back the chain Pop() just returned (a device that cannot use it yet,
  // e.g. net rx without enough buffers).
  void UndoPop(uint16_t count = 1) { next_avail_ = static_cast<uint16_t>(next_avail_ - count); }
  // Chains the driver has posted that Pop() has not returned yet.
  uint16_t AvailableCount() const;

  // Returns chain `head` to the driver with `written` bytes written into its
  // writable part.
  void AddUsed(uint16_t head, uint32_t written);

  // After adding used entries: whether the driver wants an interrupt now
  // (event-idx or the NO_INTERRUPT flag). Remembers what it reported.
  bool NeedsInterrupt();

  // Asks the driver to notify again for new buffers, then re-checks: true
  // when buffers arrived meanwhile (the caller keeps processing). The usual
  // loop:  do { while (auto c = q.Pop()) ...; } while (q.EnableNotification());
  bool EnableNotification();
  // For a device that needs more buffers than the driver has posted (net rx
  // with mergeable buffers): asks to be notified when the driver posts beyond
  // what is available now, then re-checks: true when it already has.
  bool EnableNotificationForMore();

  uint16_t next_avail() const { return next_avail_; }
  uint16_t next_used() const { return next_used_; }

 private:
  uint16_t LoadAvailIdx() const;
  void WalkChain(uint16_t head, DescriptorChain& chain) const;
  void AddBuffer(const RingDescriptor& d, DescriptorChain& chain, bool& seen_writable) const;

  uint16_t max_size_;
  bool active_ = false;
  bool event_idx_ = false;
  const GuestMemory* memory_ = nullptr;
  std::span<uint8_t> desc_;   // size * 16 bytes
  std::span<uint8_t> avail_;  // 6 + 2 * size bytes: flags, idx, ring[size], used_event
  std::span<uint8_t> used_;   // 6 + 8 * size bytes: flags, idx, ring[size], avail_event
  uint16_t next_avail_ = 0;
  uint16_t next_used_ = 0;
  uint16_t signalled_used_ = 0;
  bool signalled_used_valid_ = false;
};

}  // namespace hull::vmm::virtio
