// The microVM's rootfs drive slots. virtio-mmio devices are announced on the
// kernel command line at boot, so there is no device hot-plug: as Firecracker
// users do, the VM boots with a fixed number of read-only drives, the spare
// ones backed by a placeholder, and each container's rootfs image is swapped
// into a free slot with PATCH /drives/{id} (a config-change interrupt tells
// the guest the new size). Slot N is drive "rootfs" (N = 0) or "rootfsN",
// the guest's /dev/vd<'a'+N>, in the order the drives were added.
#pragma once

#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace hull::vm_sandbox {

class DriveSlotsError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

class DriveSlots {
 public:
  // At most 26 slots: the guest names them /dev/vda ... /dev/vdz.
  explicit DriveSlots(size_t count);

  // The lowest free slot, now held by `owner`. Throws DriveSlotsError when
  // all are in use (naming the limit) or `owner` already holds one.
  size_t Acquire(const std::string& owner);
  // Frees `owner`'s slot; false when it held none.
  bool Release(const std::string& owner);
  // The slot `owner` holds, or -1.
  long SlotOf(const std::string& owner) const;
  size_t count() const { return owners_.size(); }
  size_t in_use() const { return by_owner_.size(); }

  static std::string DriveId(size_t slot);
  static std::string GuestDevice(size_t slot);

 private:
  std::vector<std::string> owners_;  // empty: free
  std::map<std::string, size_t> by_owner_;
};

}  // namespace hull::vm_sandbox
