// virtio-balloon (virtio 1.2, 5.5): lets the guest hand RAM it does not use
// back to the host.
//  - free page reporting (VIRTIO_BALLOON_F_REPORTING): the guest's
//    mm/page_reporting.c posts chains of free blocks (pageblock order: 2 or
//    4 MiB on x86) on the reporting queue, a couple of seconds after they
//    became free; the device discards them (madvise / hole punch), so a
//    guest that touched memory once (boot, unpacking its initramfs, a
//    burst of allocations) stops costing the host for it.
//  - the classic balloon: the host sets a target (num_pages); the guest
//    inflates by giving pages away on the inflate queue (arrays of 32-bit
//    page frame numbers, 4 KiB each), which are discarded, and deflates on
//    the deflate queue (nothing to do: without MUST_TELL_HOST the guest may
//    reuse a page before telling). DEFLATE_ON_OOM lets the guest deflate
//    instead of OOM-killing.
// Every address comes from the guest: chains are checked by Queue::Pop and
// every page frame number is translated through GuestMemory; anything
// outside guest RAM is skipped and counted, never discarded.
//
// Queue indices: inflate 0, deflate 1, reporting 2 (Linux numbers only the
// queues of negotiated features; stats and free page hinting are not
// offered, so reporting is always the third).
#pragma once

#include <cstdint>

#include "virtio/virtio_device.h"

namespace hull::vmm::virtio {

inline constexpr uint32_t kDeviceTypeBalloon = 5;

// Feature bits (virtio 1.2, 5.5.3).
inline constexpr unsigned kBalloonFeatureDeflateOnOom = 2;
inline constexpr unsigned kBalloonFeatureReporting = 5;

struct BalloonOptions {
  uint32_t target_mib = 0;  // what the guest should give away now
  bool deflate_on_oom = false;
  bool free_page_reporting = true;
};

struct BalloonCounters {
  uint64_t inflated_pages = 0;   // page frame numbers received on the inflate queue
  uint64_t deflated_pages = 0;
  uint64_t reported_bytes = 0;   // free memory the guest reported
  uint64_t discarded_bytes = 0;  // of both: what went back to the host
  uint64_t rejected = 0;         // guest addresses outside its RAM (skipped)
};

class VirtioBalloon : public VirtioDevice {
 public:
  static constexpr uint16_t kQueueSize = 256;
  // Linux refuses a reporting queue shorter than PAGE_REPORTING_CAPACITY (32).
  static constexpr uint16_t kReportingQueueSize = 64;
  // Linux sends at most 256 per chain; more from a hostile guest is ignored
  // so one chain cannot keep the I/O thread busy for long.
  static constexpr uint32_t kMaxPfnsPerChain = 4096;
  static constexpr unsigned kPfnShift = 12;  // VIRTIO_BALLOON_PFN_SHIFT
  static constexpr size_t kInflateQueue = 0;
  static constexpr size_t kDeflateQueue = 1;
  static constexpr size_t kReportingQueue = 2;

  explicit VirtioBalloon(const BalloonOptions& options);

  // Sets num_pages and raises a config-change interrupt, so the guest
  // inflates or deflates towards it. Takes the device mutex.
  void SetTarget(uint32_t target_mib);
  uint32_t target_mib() const;
  // What the guest says it has given away (its `actual`), in MiB.
  uint32_t actual_mib() const;
  BalloonCounters counters() const;

  void WriteConfig(uint64_t offset, std::span<const uint8_t> data) override;

 protected:
  void ProcessQueue(size_t index) override;
  void OnReset() override;

 private:
  void Inflate(const DescriptorChain& chain);
  void Report(const DescriptorChain& chain);
  void DiscardPfnRun(uint64_t first_pfn, uint64_t count);
  void StoreConfig();

  uint32_t num_pages_ = 0;
  uint32_t actual_pages_ = 0;
  BalloonCounters counters_;
};

}  // namespace hull::vmm::virtio
