// virtio-net (virtio 1.x, 5.1) over a tap: one rx/tx queue pair,
// mergeable receive buffers, checksum and TSO offloads in both directions
// (negotiated with the guest, mirrored to the tap with TUNSETOFFLOAD), and
// the MAC address from the configuration.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "devices/virtio/tap_device.h"
#include "io/event_loop.h"
#include "virtio/virtio_device.h"

namespace hull::vmm::virtio {

inline constexpr uint32_t kDeviceTypeNet = 1;

using MacAddress = std::array<uint8_t, 6>;

// "aa:bb:cc:dd:ee:ff" -> bytes; nullopt when malformed.
std::optional<MacAddress> ParseMac(const std::string& text);

struct NetOptions {
  std::string tap_name;
  std::optional<MacAddress> mac;  // none: the guest picks a random one
};

class VirtioNet : public VirtioDevice {
 public:
  static constexpr uint16_t kQueueSize = 256;
  // Largest frame with TSO: 64 KiB of payload plus headers, plus the vnet header.
  static constexpr size_t kMaxFrame = 65562;

  VirtioNet(const NetOptions& options, io::EventLoop& loop);  // throws DeviceError
  ~VirtioNet() override;

  const std::string& tap_name() const { return tap_.name(); }

 protected:
  void ProcessQueue(size_t index) override;
  void OnActivate() override;
  void OnReset() override;

 private:
  void ProcessTx();
  void PumpRx();
  // Places `rx_frame_` (vnet header + frame) into one or more rx chains;
  // false when the guest has not posted enough buffers yet.
  bool DeliverFrame();
  void UpdateWatch();

  TapDevice tap_;
  io::EventLoop& loop_;
  std::vector<uint8_t> rx_frame_;  // the frame read from the tap, not yet delivered
  size_t rx_frame_len_ = 0;
  bool tap_readable_ = false;
  bool tx_blocked_ = false;  // the tap refused a frame: wait for EPOLLOUT
  uint32_t watched_ = 0;
};

}  // namespace hull::vmm::virtio
