#include "jailer/tap_owner.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>

#include "jailer/jailer_error.h"

namespace hull::vmm::jailer {

void HandTapTo(const std::string& tap, uid_t uid, gid_t gid) {
  const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) throw JailerError::FromErrno("opening /dev/net/tun for tap " + tap, errno);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, tap.c_str(), IFNAMSIZ - 1);
  // The flags the VMM attaches with, so the tap keeps its vnet header mode.
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  std::string failed;
  if (::ioctl(fd, TUNSETIFF, &ifr) != 0) {
    failed = "attaching to tap " + tap + " (does it exist in this network namespace?)";
  } else if (::ioctl(fd, TUNSETOWNER, static_cast<unsigned long>(uid)) != 0) {
    failed = "TUNSETOWNER on tap " + tap;
  } else if (::ioctl(fd, TUNSETGROUP, static_cast<unsigned long>(gid)) != 0) {
    failed = "TUNSETGROUP on tap " + tap;
  }
  const int err = errno;
  ::close(fd);
  if (!failed.empty()) throw JailerError::FromErrno(failed, err);
}

}  // namespace hull::vmm::jailer
