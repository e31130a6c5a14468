// The share's inodes as the guest knows them: a 64-bit node id that this
// table assigns (never a host pointer, never reused) for each host O_PATH fd
// the guest has looked up, with the kernel's lookup count. The same host
// file (st_dev, st_ino) always maps to the same node id while it is known,
// as FUSE expects for hard links. Bounded: a full table refuses new inodes.
//
// Not thread-safe: the FUSE server serialises access.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <unordered_map>
#include <utility>

#include "io/unique_fd.h"

namespace hull::vmm::fuse {

inline constexpr uint64_t kRootNodeId = 1;  // FUSE_ROOT_ID

struct Inode {
  io::UniqueFd fd;  // O_PATH | O_NOFOLLOW
  dev_t dev = 0;
  ino_t ino = 0;
  mode_t type = 0;  // the S_IFMT bits
  uint64_t nlookup = 0;
};

struct InodeRef {
  uint64_t nodeid = 0;  // 0: not added
  int error = 0;        // ENFILE when the table is full
};

class InodeTable {
 public:
  // `root` is the share's directory (O_PATH); it is node id 1 for good.
  InodeTable(io::UniqueFd root, dev_t dev, ino_t ino, size_t max_inodes);

  // The inode behind `nodeid`, or null for an id never issued or forgotten.
  const Inode* Find(uint64_t nodeid) const;

  // Counts one lookup of the file `fd` refers to: the known node id when
  // (dev, ino) is already in the table (and `fd` is closed), else a new one.
  InodeRef Add(io::UniqueFd fd, dev_t dev, ino_t ino, mode_t type);

  // The kernel dropped `count` lookups of `nodeid`; at zero the inode goes.
  // Unknown ids, the root and counts beyond what was looked up are ignored
  // or clamped: the guest controls them.
  void Forget(uint64_t nodeid, uint64_t count);

  // FUSE_DESTROY: everything but the root.
  void Clear();

  size_t size() const { return inodes_.size(); }

 private:
  size_t max_inodes_;
  uint64_t next_id_ = kRootNodeId + 1;
  std::unordered_map<uint64_t, Inode> inodes_;
  std::map<std::pair<dev_t, ino_t>, uint64_t> by_host_id_;
};

}  // namespace hull::vmm::fuse
