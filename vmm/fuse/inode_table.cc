#include "fuse/inode_table.h"

#include <cerrno>

namespace hull::vmm::fuse {

InodeTable::InodeTable(io::UniqueFd root, dev_t dev, ino_t ino, size_t max_inodes) : max_inodes_(max_inodes) {
  Inode r;
  r.fd = std::move(root);
  r.dev = dev;
  r.ino = ino;
  r.type = S_IFDIR;
  r.nlookup = 1;
  inodes_.emplace(kRootNodeId, std::move(r));
  by_host_id_[{dev, ino}] = kRootNodeId;
}

const Inode* InodeTable::Find(uint64_t nodeid) const {
  auto it = inodes_.find(nodeid);
  return it == inodes_.end() ? nullptr : &it->second;
}

InodeRef InodeTable::Add(io::UniqueFd fd, dev_t dev, ino_t ino, mode_t type) {
  if (auto known = by_host_id_.find({dev, ino}); known != by_host_id_.end()) {
    Inode& inode = inodes_.at(known->second);
    if (known->second != kRootNodeId) ++inode.nlookup;
    return {known->second, 0};
  }
  if (inodes_.size() >= max_inodes_) return {0, ENFILE};
  const uint64_t id = next_id_++;
  Inode inode;
  inode.fd = std::move(fd);
  inode.dev = dev;
  inode.ino = ino;
  inode.type = type;
  inode.nlookup = 1;
  inodes_.emplace(id, std::move(inode));
  by_host_id_[{dev, ino}] = id;
  return {id, 0};
}

void InodeTable::Forget(uint64_t nodeid, uint64_t count) {
  if (nodeid == kRootNodeId) return;
  auto it = inodes_.find(nodeid);
  if (it == inodes_.end()) return;
  if (count < it->second.nlookup) {
    it->second.nlookup -= count;
    return;
  }
  by_host_id_.erase({it->second.dev, it->second.ino});
  inodes_.erase(it);
}

void InodeTable::Clear() {
  for (auto it = inodes_.begin(); it != inodes_.end();) {
    if (it->first == kRootNodeId) {
      ++it;
      continue;
    }
    by_host_id_.erase({it->second.dev, it->second.ino});
    it = inodes_.erase(it);
  }
}

}  // namespace hull::vmm::fuse
