#include "fuse/handle_table.h"

#include <cerrno>

namespace hull::vmm::fuse {

HandleRef HandleTable::Add(io::UniqueFd fd, HandleKind kind) {
  if (handles_.size() >= max_handles_) return {0, ENFILE};
  const uint64_t fh = next_fh_++;
  handles_.emplace(fh, Handle{std::move(fd), kind});
  return {fh, 0};
}

int HandleTable::Find(uint64_t fh, HandleKind kind) const {
  auto it = handles_.find(fh);
  if (it == handles_.end() || it->second.kind != kind) return -1;
  return it->second.fd.get();
}

bool HandleTable::Remove(uint64_t fh, HandleKind kind) {
  auto it = handles_.find(fh);
  if (it == handles_.end() || it->second.kind != kind) return false;
  handles_.erase(it);
  return true;
}

}  // namespace hull::vmm::fuse
