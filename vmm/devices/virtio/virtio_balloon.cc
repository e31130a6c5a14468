#include "devices/virtio/virtio_balloon.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <vector>

#include "devices/virtio/guest_ram_discard.h"

namespace hull::vmm::virtio {
namespace {

// struct virtio_balloon_config: num_pages, actual, free_page_hint_cmd_id,
// poison_val, all little-endian 32-bit.
constexpr size_t kConfigSize = 16;
constexpr size_t kNumPagesOffset = 0;
constexpr size_t kActualOffset = 4;
constexpr uint32_t kPagesPerMib = (1u << 20) >> VirtioBalloon::kPfnShift;

uint64_t Features(const BalloonOptions& o) {
  uint64_t f = 0;
  if (o.deflate_on_oom) f |= 1ull << kBalloonFeatureDeflateOnOom;
  if (o.free_page_reporting) f |= 1ull << kBalloonFeatureReporting;
  return f;
}

std::vector<uint16_t> QueueSizes(const BalloonOptions& o) {
  std::vector<uint16_t> sizes{VirtioBalloon::kQueueSize, VirtioBalloon::kQueueSize};
  if (o.free_page_reporting) sizes.push_back(VirtioBalloon::kReportingQueueSize);
  return sizes;
}

void PutLe32(std::vector<uint8_t>& bytes, size_t at, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) bytes[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

uint32_t GetLe32(const std::vector<uint8_t>& bytes, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v |= uint32_t{bytes[at + i]} << (8 * i);
  return v;
}

}  // namespace

VirtioBalloon::VirtioBalloon(const BalloonOptions& options)
    : VirtioDevice(kDeviceTypeBalloon, Features(options), QueueSizes(options)),
      num_pages_(options.target_mib * kPagesPerMib) {
  config_space_.assign(kConfigSize, 0);
  StoreConfig();
}

void VirtioBalloon::SetTarget(uint32_t target_mib) {
  std::lock_guard lock(mutex());
  num_pages_ = target_mib * kPagesPerMib;
  StoreConfig();
  SignalConfigChange();
}

uint32_t VirtioBalloon::target_mib() const {
  std::lock_guard lock(mutex());
  return num_pages_ / kPagesPerMib;
}

uint32_t VirtioBalloon::actual_mib() const {
  std::lock_guard lock(mutex());
  return actual_pages_ / kPagesPerMib;
}

BalloonCounters VirtioBalloon::counters() const {
  std::lock_guard lock(mutex());
  return counters_;
}

void VirtioBalloon::StoreConfig() {
  PutLe32(config_space_, kNumPagesOffset, num_pages_);
  PutLe32(config_space_, kActualOffset, actual_pages_);
}

void VirtioBalloon::WriteConfig(uint64_t offset, std::span<const uint8_t> data) {
  // Only `actual` is the driver's to write; bytes outside it are ignored.
  for (size_t i = 0; i < data.size(); ++i) {
    const uint64_t at = offset + i;
    if (at >= kActualOffset && at < kActualOffset + 4) config_space_[at] = data[i];
  }
  actual_pages_ = GetLe32(config_space_, kActualOffset);
}

void VirtioBalloon::OnReset() {
  actual_pages_ = 0;
  StoreConfig();
}

void VirtioBalloon::ProcessQueue(size_t index) {
  Queue& q = queues()[index];
  do {
    while (auto chain = q.Pop()) {
      if (index == kInflateQueue) {
        Inflate(*chain);
      } else if (index == kDeflateQueue) {
        counters_.deflated_pages += std::min<uint64_t>(chain->readable_bytes() / 4, kMaxPfnsPerChain);
      } else {
        Report(*chain);
      }
      q.AddUsed(chain->head(), 0);
    }
  } while (q.EnableNotification());
  SignalUsed(q);
}

void VirtioBalloon::Inflate(const DescriptorChain& chain) {
  // The page frame numbers live in guest RAM, which the guest may change
  // while we read: copy them out first, then work on the copy.
  const uint64_t count = std::min<uint64_t>(chain.readable_bytes() / 4, kMaxPfnsPerChain);
  std::vector<uint32_t> pfns(count);
  chain.CopyFromReadable(0, {reinterpret_cast<uint8_t*>(pfns.data()), count * 4});
  counters_.inflated_pages += count;
  // Linux sends ascending runs: discard each run with one call.
  uint64_t run_start = 0;
  uint64_t run_length = 0;
  for (uint32_t pfn : pfns) {
    if (run_length > 0 && pfn == run_start + run_length) {
      ++run_length;
      continue;
    }
    if (run_length > 0) DiscardPfnRun(run_start, run_length);
    run_start = pfn;
    run_length = 1;
  }
  if (run_length > 0) DiscardPfnRun(run_start, run_length);
}

void VirtioBalloon::DiscardPfnRun(uint64_t first_pfn, uint64_t count) {
  const uint64_t page = 1ull << kPfnShift;
  if (auto range = memory().Translate(first_pfn << kPfnShift, count * page)) {
    counters_.discarded_bytes += DiscardGuestRam(memory(), *range);
    return;
  }
  // The run leaves guest RAM or spans two regions: page by page.
  for (uint64_t i = 0; i < count; ++i) {
    if (auto one = memory().Translate((first_pfn + i) << kPfnShift, page)) {
      counters_.discarded_bytes += DiscardGuestRam(memory(), *one);
    } else {
      ++counters_.rejected;
    }
  }
}

void VirtioBalloon::Report(const DescriptorChain& chain) {
  // Queue::Pop has already checked that every buffer lies inside one guest
  // RAM region; readable buffers have no meaning here and are ignored.
  for (auto block : chain.writable()) {
    counters_.reported_bytes += block.size();
    counters_.discarded_bytes += DiscardGuestRam(memory(), block);
  }
}

}  // namespace hull::vmm::virtio
