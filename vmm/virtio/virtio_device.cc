#include "virtio/virtio_device.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace hull::vmm::virtio {

VirtioDevice::VirtioDevice(uint32_t device_type, uint64_t features, std::vector<uint16_t> queue_sizes)
    : device_type_(device_type),
      device_features_(features | (1ull << kFeatureVersion1) | (1ull << kFeatureIndirectDesc) |
                       (1ull << kFeatureEventIdx)) {
  queues_.reserve(queue_sizes.size());
  for (uint16_t s : queue_sizes) queues_.emplace_back(s);
}

void VirtioDevice::Attach(const GuestMemory& memory, IrqLine& irq) {
  std::lock_guard lock(mu_);
  memory_ = &memory;
  irq_ = &irq;
}

void VirtioDevice::WriteDriverFeatures(uint32_t select, uint32_t value) {
  // Features are fixed once FEATURES_OK is set (virtio 1.x, 3.1.1).
  if ((status_ & kStatusFeaturesOk) || select > 1) return;
  const unsigned shift = 32 * select;
  driver_features_ = (driver_features_ & ~(0xffffffffull << shift)) | (uint64_t{value} << shift);
}

void VirtioDevice::WriteStatus(uint32_t value) {
  if (value == 0) {
    Reset();
    return;
  }
  if (failed()) return;  // only a reset brings a failed device back
  const uint32_t added = value & ~status_;
  if (status_ & ~value) return;  // bits are only cleared by a reset: ignore
  if (added & kStatusFeaturesOk) {
    // Refuse (leave FEATURES_OK unset, which the driver reads back) features
    // we never offered, and legacy drivers.
    if ((driver_features_ & ~device_features_) != 0 || !Negotiated(kFeatureVersion1)) {
      value &= ~kStatusFeaturesOk;
    }
  }
  status_ = value;
  if ((added & kStatusDriverOk) && (status_ & kStatusFeaturesOk) && !active_) Activate();
}

void VirtioDevice::Activate() {
  if (memory_ == nullptr || irq_ == nullptr) {
    Fail("device activated before the VMM attached guest memory and an interrupt line");
    return;
  }
  try {
    for (auto& q : queues_) {
      if (q.ready) q.Activate(*memory_, Negotiated(kFeatureEventIdx));
    }
    active_ = true;
    OnActivate();
  } catch (const VirtioError& e) {
    Fail(e.what());
  }
}

void VirtioDevice::Reset() {
  OnReset();
  for (auto& q : queues_) q.Reset();
  status_ = 0;
  driver_features_ = 0;
  interrupt_status_ = 0;
  active_ = false;
  failure_.clear();
}

void VirtioDevice::ReadConfig(uint64_t offset, std::span<uint8_t> data) {
  std::fill(data.begin(), data.end(), 0);
  if (offset >= config_space_.size()) return;
  const size_t n = std::min<uint64_t>(data.size(), config_space_.size() - offset);
  std::memcpy(data.data(), config_space_.data() + offset, n);
}

void VirtioDevice::WriteConfig(uint64_t, std::span<const uint8_t>) {}

void VirtioDevice::HandleQueueNotify(size_t index) {
  std::lock_guard lock(mu_);
  if (!active_ || index >= queues_.size() || !queues_[index].active()) return;
  try {
    ProcessQueue(index);
  } catch (const VirtioError& e) {
    Fail(e.what());
  }
}

void VirtioDevice::SignalUsed(Queue& queue) {
  if (!queue.NeedsInterrupt()) return;
  interrupt_status_ |= kInterruptUsedBuffer;
  irq_->Trigger();
}

void VirtioDevice::SignalConfigChange() {
  ++config_generation_;
  interrupt_status_ |= kInterruptConfigChange;
  if (irq_ != nullptr) irq_->Trigger();
}

std::string DeviceTypeName(uint32_t device_type) {
  switch (device_type) {
    case 1:
      return "net";
    case 2:
      return "blk";
    case 3:
      return "console";
    case 4:
      return "rng";
    case 5:
      return "balloon";
    case 19:
      return "vsock";
    case 26:
      return "fs";
    default:
      return "type-" + std::to_string(device_type);
  }
}

void VirtioDevice::Fail(const std::string& why) {
  // The guest broke the rules; say so, so that a stopped disk or socket in a
  // VM has a visible cause. A guest that breaks and resets a device in a loop
  // must not flood the host's log: the first kFailuresLogged failures of a
  // device are logged, later ones only at powers of two.
  ++failures_;
  if (failures_ <= kFailuresLogged || std::has_single_bit(failures_)) {
    spdlog::warn(
        "virtio-{} device failed (it stays stopped until the guest driver resets it): {}{}",
        DeviceTypeName(device_type_), why,
        failures_ > kFailuresLogged ? " (failure " + std::to_string(failures_) +
                                          " of this device; later ones are logged at powers of two)"
                                    : "");
  }
  if (failure_.empty()) failure_ = why;
  active_ = false;
  status_ |= kStatusNeedsReset;
  OnReset();  // drop back-end state (connections, in-flight requests)
  interrupt_status_ |= kInterruptConfigChange;
  if (irq_ != nullptr) irq_->Trigger();
}

}  // namespace hull::vmm::virtio
