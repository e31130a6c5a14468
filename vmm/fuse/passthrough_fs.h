// A host directory served to the guest as a FUSE file system ("passthrough"):
// every operation is done on the host with *at() calls relative to an
// inode's O_PATH fd, never with a path string built from guest input.
//
// Containment (the guest is hostile):
// - inodes are node ids from InodeTable, never host pointers; an id never
//   issued, or forgotten, is ENOENT/EBADF-free: Find() just fails (ESTALE);
// - names pass CheckName() (one component, no "..", bounded) and are opened
//   with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
//   and O_NOFOLLOW, so no lookup walks out of its parent or through a link:
//   a symlink is returned to the guest as a link and only the guest resolves it;
// - open files are reopened from the O_PATH fd through /proc/self/fd (a
//   magic link to that exact inode, never a path), only for regular files
//   and directories;
// - set-user/group-id bits are dropped from files the guest creates or
//   chmods (a hostile guest must not plant a set-uid file owned by the
//   VMM's user on the host); the share's own files keep theirs;
// - read-only shares answer EROFS to every modifying operation.
//
// Every method returns 0 or a positive errno for the guest. Not
// thread-safe: one FUSE server thread calls it.
#pragma once

#include <linux/fuse.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuse/handle_table.h"
#include "fuse/inode_table.h"
#include "io/unique_fd.h"

namespace hull::vmm::fuse {

struct FsOptions {
  std::string path;  // the shared host directory
  bool read_only = false;
  size_t max_inodes = 1 << 16;
  size_t max_handles = 1 << 12;
};

// Who asked (from the request header): new files are given to this owner
// when the VMM may do so (it runs as root); otherwise they stay the VMM's.
struct Caller {
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// How long the guest may cache entries and attributes: short, as the host
// may change the share behind its back.
inline constexpr uint64_t kCacheSeconds = 1;

class PassthroughFs {
 public:
  // Opens the share; throws FuseError (missing, not a directory, no /proc).
  explicit PassthroughFs(const FsOptions& options);

  bool read_only() const { return read_only_; }
  const InodeTable& inodes() const { return inodes_; }
  const HandleTable& handles() const { return handles_; }

  int Lookup(uint64_t parent, std::string_view name, fuse_entry_out& out);
  void Forget(uint64_t nodeid, uint64_t count) { inodes_.Forget(nodeid, count); }
  int GetAttr(uint64_t nodeid, fuse_attr& out);
  int SetAttr(uint64_t nodeid, const fuse_setattr_in& in, fuse_attr& out);
  int ReadLink(uint64_t nodeid, std::string& target);
  int Symlink(uint64_t parent, std::string_view name, std::string_view target, Caller who, fuse_entry_out& out);
  int Mknod(uint64_t parent, std::string_view name, uint32_t mode, Caller who, fuse_entry_out& out);
  int Mkdir(uint64_t parent, std::string_view name, uint32_t mode, Caller who, fuse_entry_out& out);
  int Unlink(uint64_t parent, std::string_view name);
  int Rmdir(uint64_t parent, std::string_view name);
  int Rename(uint64_t old_parent, std::string_view old_name, uint64_t new_parent, std::string_view new_name,
             uint32_t flags);
  int Link(uint64_t nodeid, uint64_t new_parent, std::string_view new_name, fuse_entry_out& out);
  int Open(uint64_t nodeid, uint32_t flags, uint64_t& fh);
  int Create(uint64_t parent, std::string_view name, uint32_t flags, uint32_t mode, Caller who,
             fuse_entry_out& entry, uint64_t& fh);
  // Appends up to `size` bytes read at `offset` to `out`.
  int Read(uint64_t fh, uint64_t offset, uint32_t size, std::vector<uint8_t>& out);
  // Reads at `offset` straight into `buffers` (the guest's, for READ);
  // `read` is what arrived.
  int ReadInto(uint64_t fh, uint64_t offset, std::span<const iovec> buffers, size_t& read);
  int Write(uint64_t fh, uint64_t offset, std::span<const uint8_t> data, uint32_t& written);
  int Release(uint64_t fh) { return handles_.Remove(fh, HandleKind::kFile) ? 0 : EBADF; }
  int Fsync(uint64_t fh, bool datasync, HandleKind kind);
  int OpenDir(uint64_t nodeid, uint64_t& fh);
  // Appends fuse_dirent records (at most `size` bytes) from `offset` on.
  int ReadDir(uint64_t fh, uint64_t offset, uint32_t size, std::vector<uint8_t>& out);
  int ReleaseDir(uint64_t fh) { return handles_.Remove(fh, HandleKind::kDirectory) ? 0 : EBADF; }
  int StatFs(uint64_t nodeid, fuse_kstatfs& out);
  int Access(uint64_t nodeid, uint32_t mask);
  int Lseek(uint64_t fh, uint64_t offset, uint32_t whence, uint64_t& out);
  int Fallocate(uint64_t fh, uint64_t offset, uint64_t length, uint32_t mode);
  // FUSE_DESTROY: forget every inode but the root, close every handle.
  void Destroy();

 private:
  // Opens `name` under `parent_fd` as O_PATH (no link followed) and counts
  // a lookup of it.
  int EnterChild(int parent_fd, std::string_view name, fuse_entry_out& out);
  // Parent inode that must be a directory; sets `err` otherwise.
  const Inode* Directory(uint64_t nodeid, int& err) const;
  // A real fd for an O_PATH inode fd (regular files and directories only).
  io::UniqueFd Reopen(const Inode& inode, int flags, int& err) const;
  void GiveTo(int parent_fd, std::string_view name, Caller who) const;

  bool read_only_;
  io::UniqueFd proc_fds_;  // /proc/self/fd
  InodeTable inodes_;
  HandleTable handles_;
};

}  // namespace hull::vmm::fuse
