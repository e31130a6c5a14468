// Open files and directories the guest holds (FUSE file handles): a 64-bit
// handle this table assigns, never reused, for each host fd. Bounded.
//
// Not thread-safe: the FUSE server serialises access.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "io/unique_fd.h"

namespace hull::vmm::fuse {

enum class HandleKind { kFile, kDirectory };

struct HandleRef {
  uint64_t fh = 0;  // 0: not added
  int error = 0;    // ENFILE when the table is full
};

class HandleTable {
 public:
  explicit HandleTable(size_t max_handles) : max_handles_(max_handles) {}

  HandleRef Add(io::UniqueFd fd, HandleKind kind);
  // The host fd behind `fh` if it exists and is of `kind`; -1 otherwise.
  int Find(uint64_t fh, HandleKind kind) const;
  // Closes `fh`; false when there was no such handle of that kind.
  bool Remove(uint64_t fh, HandleKind kind);
  void Clear() { handles_.clear(); }
  size_t size() const { return handles_.size(); }

 private:
  struct Handle {
    io::UniqueFd fd;
    HandleKind kind;
  };
  size_t max_handles_;
  uint64_t next_fh_ = 1;
  std::unordered_map<uint64_t, Handle> handles_;
};

}  // namespace hull::vmm::fuse
