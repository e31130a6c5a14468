// A Linux tap interface opened with IFF_VNET_HDR, as the back end of
// virtio-net: every frame read or written carries the 12-byte virtio-net
// header, so checksum and segmentation offloads pass straight through.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <span>
#include <string>

#include "io/unique_fd.h"

namespace hull::vmm::virtio {

class TapDevice {
 public:
  static constexpr size_t kVnetHeaderSize = 12;  // virtio_net_hdr_v1

  // Attaches to the tap `name` (a persistent one made with `ip tuntap add`),
  // or creates it when it does not exist; an empty name lets the kernel pick
  // "tapN". Non-blocking. Throws DeviceError.
  explicit TapDevice(const std::string& name);

  const std::string& name() const { return name_; }
  int fd() const { return fd_.get(); }
  // TUNSETOFFLOAD: which TUN_F_* offloads the guest accepts on receive.
  // Throws DeviceError.
  void SetOffloads(unsigned tun_flags);

 private:
  io::UniqueFd fd_;
  std::string name_;
};

}  // namespace hull::vmm::virtio
