// What every virtio device shares, independent of the transport: feature
// negotiation, the device status state machine, the queues, the interrupt
// status and the failure path. A concrete device (blk, net, vsock, console,
// rng) supplies its type, features, config space and ProcessQueue().
//
// Threads: the transport (vCPU threads) and the I/O thread both go through
// mutex(); every method below that touches state expects it held, except
// HandleQueueNotify() and Guarded(), which take it.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "bus/irq.h"
#include "memory/guest_memory.h"
#include "virtio/queue.h"
#include "virtio/virtio_error.h"

namespace hull::vmm::virtio {

// Device status bits (virtio 1.x, 2.1).
inline constexpr uint32_t kStatusAcknowledge = 1;
inline constexpr uint32_t kStatusDriver = 2;
inline constexpr uint32_t kStatusDriverOk = 4;
inline constexpr uint32_t kStatusFeaturesOk = 8;
inline constexpr uint32_t kStatusNeedsReset = 64;
inline constexpr uint32_t kStatusFailed = 128;

// Transport-independent feature bits every hull device offers.
inline constexpr unsigned kFeatureIndirectDesc = 28;
inline constexpr unsigned kFeatureEventIdx = 29;
inline constexpr unsigned kFeatureVersion1 = 32;

// InterruptStatus bits.
inline constexpr uint32_t kInterruptUsedBuffer = 1;
inline constexpr uint32_t kInterruptConfigChange = 2;

class VirtioDevice {
 public:
  // `features`: the device-specific bits; VERSION_1, INDIRECT_DESC and
  // EVENT_IDX are added. One queue per entry of `queue_sizes` (powers of 2).
  VirtioDevice(uint32_t device_type, uint64_t features, std::vector<uint16_t> queue_sizes);
  virtual ~VirtioDevice() = default;
  VirtioDevice(const VirtioDevice&) = delete;
  VirtioDevice& operator=(const VirtioDevice&) = delete;

  uint32_t device_type() const { return device_type_; }
  uint64_t device_features() const { return device_features_; }
  std::mutex& mutex() const { return mu_; }

  // Connects the device to guest RAM and its interrupt line; done once by the
  // transport before the guest can touch it.
  void Attach(const GuestMemory& memory, IrqLine& irq);

  // ---- the transport's view (mutex held) ----
  std::vector<Queue>& queues() { return queues_; }
  uint32_t status() const { return status_; }
  // Handles 0 (reset), FEATURES_OK (checks the driver's features) and
  // DRIVER_OK (validates the queues and activates the device).
  void WriteStatus(uint32_t value);
  void WriteDriverFeatures(uint32_t select, uint32_t value);
  uint64_t driver_features() const { return driver_features_; }
  uint32_t interrupt_status() const { return interrupt_status_; }
  void AckInterrupt(uint32_t bits) { interrupt_status_ &= ~bits; }
  uint32_t config_generation() const { return config_generation_; }
  virtual void ReadConfig(uint64_t offset, std::span<uint8_t> data);
  virtual void WriteConfig(uint64_t offset, std::span<const uint8_t> data);

  // True once DRIVER_OK is set and until a reset or a failure.
  bool active() const { return active_; }
  bool failed() const { return (status_ & kStatusNeedsReset) != 0; }
  // Why the device stopped (empty when it did not).
  const std::string& failure() const { return failure_; }
  // How often the guest made this device fail since it was created (resets
  // do not clear it). Fail() logs the first kFailuresLogged, then powers of 2.
  uint64_t failures() const { return failures_; }
  static constexpr uint64_t kFailuresLogged = 10;

  // ---- the I/O thread's view (takes the mutex) ----
  // The driver rang queue `index`'s doorbell.
  void HandleQueueNotify(size_t index);

 protected:
  // Called with the mutex held; may throw VirtioError, which fails the device.
  virtual void OnActivate() {}
  virtual void OnReset() {}
  virtual void ProcessQueue(size_t index) = 0;

  // Raises the used-buffer interrupt if `queue`'s driver asked for it.
  void SignalUsed(Queue& queue);
  void SignalConfigChange();
  // Marks the device DEVICE_NEEDS_RESET and stops it (virtio 1.x, 2.1.2).
  void Fail(const std::string& why);
  bool Negotiated(unsigned bit) const { return (driver_features_ >> bit) & 1; }
  const GuestMemory& memory() const { return *memory_; }
  // For back-end events (a socket became readable, a disk request finished):
  // takes the mutex, runs `fn` only while active, turns VirtioError into Fail.
  template <typename Fn>
  void Guarded(Fn&& fn) {
    std::lock_guard lock(mu_);
    if (!active_) return;
    try {
      fn();
    } catch (const VirtioError& e) {
      Fail(e.what());
    }
  }
  // The device-specific config space, read by the default ReadConfig().
  std::vector<uint8_t> config_space_;

 private:
  void Reset();
  void Activate();

  const uint32_t device_type_;
  const uint64_t device_features_;
  mutable std::mutex mu_;
  const GuestMemory* memory_ = nullptr;
  IrqLine* irq_ = nullptr;
  std::vector<Queue> queues_;
  uint32_t status_ = 0;
  uint64_t driver_features_ = 0;
  uint32_t interrupt_status_ = 0;
  uint32_t config_generation_ = 0;
  bool active_ = false;
  std::string failure_;
  uint64_t failures_ = 0;
};

// "blk", "net", "vsock", ... for log messages ("type-N" for others).
std::string DeviceTypeName(uint32_t device_type);

}  // namespace hull::vmm::virtio
