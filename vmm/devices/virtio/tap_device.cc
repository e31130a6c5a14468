#include "devices/virtio/tap_device.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "devices/virtio/device_error.h"

namespace hull::vmm::virtio {

TapDevice::TapDevice(const std::string& name) {
  if (name.size() >= IFNAMSIZ) {
    throw DeviceError("tap name '" + name + "' is longer than " + std::to_string(IFNAMSIZ - 1) + " characters");
  }
  fd_.Reset(open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd_) {
    throw DeviceError::FromErrno("opening /dev/net/tun for tap '" + name +
                                 "' (is the tun module loaded and are we allowed to use it?)");
  }
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (ioctl(fd_.get(), TUNSETIFF, &ifr) != 0) {
    const int err = errno;
    std::string hint;
    if (err == EPERM) hint = " (creating a tap needs CAP_NET_ADMIN; or create it beforehand with `ip tuntap add " + name + " mode tap`)";
    if (err == EBUSY) hint = " (another process has it open, or it is not a multi-queue-free tap)";
    if (err == EINVAL) hint = " (an interface of that name exists and is not a tap)";
    errno = err;
    throw DeviceError::FromErrno("attaching to tap '" + name + "'" + hint);
  }
  name_ = ifr.ifr_name;
  int hdr = static_cast<int>(kVnetHeaderSize);
  if (ioctl(fd_.get(), TUNSETVNETHDRSZ, &hdr) != 0) throw DeviceError::FromErrno("TUNSETVNETHDRSZ on tap " + name_);
  SetOffloads(0);
}

void TapDevice::SetOffloads(unsigned tun_flags) {
  if (ioctl(fd_.get(), TUNSETOFFLOAD, tun_flags) != 0) throw DeviceError::FromErrno("TUNSETOFFLOAD on tap " + name_);
}

}  // namespace hull::vmm::virtio
