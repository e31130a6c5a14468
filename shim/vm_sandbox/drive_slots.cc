#include "vm_sandbox/drive_slots.h"

namespace hull::vm_sandbox {

DriveSlots::DriveSlots(size_t count) {
  if (count == 0 || count > 26) {
    throw DriveSlotsError("a microVM has 1 to 26 rootfs drive slots (/dev/vda../dev/vdz), not " +
                          std::to_string(count));
  }
  owners_.resize(count);
}

size_t DriveSlots::Acquire(const std::string& owner) {
  if (owner.empty()) throw DriveSlotsError("a drive slot needs a non-empty owner");
  if (by_owner_.count(owner) != 0) throw DriveSlotsError(owner + " already holds a rootfs drive slot");
  for (size_t slot = 0; slot < owners_.size(); ++slot) {
    if (!owners_[slot].empty()) continue;
    owners_[slot] = owner;
    by_owner_.emplace(owner, slot);
    return slot;
  }
  throw DriveSlotsError("all " + std::to_string(owners_.size()) +
                        " rootfs drive slots of this microVM are in use: a sandbox runs at most " +
                        std::to_string(owners_.size()) +
                        " containers at once (delete one of them first)");
}

bool DriveSlots::Release(const std::string& owner) {
  auto it = by_owner_.find(owner);
  if (it == by_owner_.end()) return false;
  owners_[it->second].clear();
  by_owner_.erase(it);
  return true;
}

long DriveSlots::SlotOf(const std::string& owner) const {
  auto it = by_owner_.find(owner);
  return it == by_owner_.end() ? -1 : static_cast<long>(it->second);
}

std::string DriveSlots::DriveId(size_t slot) { return slot == 0 ? "rootfs" : "rootfs" + std::to_string(slot); }

std::string DriveSlots::GuestDevice(size_t slot) {
  return std::string("/dev/vd") + static_cast<char>('a' + slot);
}

}  // namespace hull::vm_sandbox
