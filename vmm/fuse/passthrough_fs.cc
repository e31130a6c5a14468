#include "fuse/passthrough_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "fuse/fuse_error.h"
#include "fuse/name_check.h"

namespace hull::vmm::fuse {
namespace {

constexpr uint64_t kResolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
// Open flags a guest may ask for; O_CREAT/O_EXCL/O_NOCTTY/O_PATH and
// anything else are dropped (CREATE adds O_CREAT itself).
constexpr int kAllowedOpenFlags = O_ACCMODE | O_APPEND | O_TRUNC | O_SYNC | O_DSYNC | O_NONBLOCK | O_NOATIME;
constexpr uint32_t kSetIdBits = S_ISUID | S_ISGID;
constexpr uint32_t kMaxSymlinkTarget = PATH_MAX;

int OpenBeneath(int dirfd, std::string_view name, uint64_t flags, uint64_t mode) {
  const std::string n(name);
  open_how how{};
  how.flags = flags | O_CLOEXEC | O_NOFOLLOW;
  how.mode = mode;
  how.resolve = kResolve;
  return static_cast<int>(::syscall(SYS_openat2, dirfd, n.c_str(), &how, sizeof how));
}

int Stat(int fd, struct stat& st) {
  return ::fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
}

void ToAttr(const struct stat& st, fuse_attr& a) {
  a = {};
  a.ino = st.st_ino;
  a.size = static_cast<uint64_t>(st.st_size);
  a.blocks = static_cast<uint64_t>(st.st_blocks);
  a.atime = static_cast<uint64_t>(st.st_atim.tv_sec);
  a.atimensec = static_cast<uint32_t>(st.st_atim.tv_nsec);
  a.mtime = static_cast<uint64_t>(st.st_mtim.tv_sec);
  a.mtimensec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
  a.ctime = static_cast<uint64_t>(st.st_ctim.tv_sec);
  a.ctimensec = static_cast<uint32_t>(st.st_ctim.tv_nsec);
  a.mode = st.st_mode;
  a.nlink = static_cast<uint32_t>(st.st_nlink);
  a.uid = st.st_uid;
  a.gid = st.st_gid;
  a.rdev = static_cast<uint32_t>(st.st_rdev);
  a.blksize = static_cast<uint32_t>(st.st_blksize);
}

std::string Str(std::string_view s) { return std::string(s); }

}  // namespace

namespace {
struct OpenedRoot {
  io::UniqueFd fd;
  struct stat st {};
};
OpenedRoot OpenRoot(const std::string& path) {
  OpenedRoot r;
  r.fd.Reset(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!r.fd) throw FuseError::FromErrno("shared directory '" + path + "' cannot be opened (it must exist and be a directory)");
  if (Stat(r.fd.get(), r.st) != 0) throw FuseError::FromErrno("shared directory '" + path + "'");
  return r;
}
}  // namespace

PassthroughFs::PassthroughFs(const FsOptions& options)
    : read_only_(options.read_only),
      proc_fds_(::open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC)),
      inodes_([&] {
        OpenedRoot r = OpenRoot(options.path);
        return InodeTable(std::move(r.fd), r.st.st_dev, r.st.st_ino, options.max_inodes);
      }()),
      handles_(options.max_handles) {
  if (!proc_fds_) {
    throw FuseError::FromErrno("virtio-fs reopens shared files through /proc/self/fd, which cannot be opened "
                               "(mount /proc where hull-vmm runs)");
  }
}

const Inode* PassthroughFs::Directory(uint64_t nodeid, int& err) const {
  const Inode* inode = inodes_.Find(nodeid);
  if (inode == nullptr) {
    err = ESTALE;
    return nullptr;
  }
  if (inode->type != S_IFDIR) {
    err = ENOTDIR;
    return nullptr;
  }
  return inode;
}

io::UniqueFd PassthroughFs::Reopen(const Inode& inode, int flags, int& err) const {
  if (inode.type != S_IFREG && inode.type != S_IFDIR) {
    err = inode.type == S_IFLNK ? ELOOP : ENXIO;
    return {};
  }
  const std::string fd_name = std::to_string(inode.fd.get());
  io::UniqueFd fd(::openat(proc_fds_.get(), fd_name.c_str(), flags | O_CLOEXEC | O_NOCTTY));
  if (!fd) err = errno;
  return fd;
}

int PassthroughFs::EnterChild(int parent_fd, std::string_view name, fuse_entry_out& out) {
  io::UniqueFd fd(OpenBeneath(parent_fd, name, O_PATH, 0));
  if (!fd) return errno;
  struct stat st {};
  if (int err = Stat(fd.get(), st)) return err;
  const InodeRef ref = inodes_.Add(std::move(fd), st.st_dev, st.st_ino, st.st_mode & S_IFMT);
  if (ref.error) return ref.error;
  out = {};
  out.nodeid = ref.nodeid;
  out.entry_valid = kCacheSeconds;
  out.attr_valid = kCacheSeconds;
  ToAttr(st, out.attr);
  return 0;
}

void PassthroughFs::GiveTo(int parent_fd, std::string_view name, Caller who) const {
  // Only root, or a VMM that kept CAP_CHOWN (hull-jailer --share-dir), may
  // give files away; for any other VMM user this fails (EPERM, ignored) and
  // the file stays the VMM's, which is what that user can offer.
  (void)::fchownat(parent_fd, Str(name).c_str(), who.uid, who.gid, AT_SYMLINK_NOFOLLOW);
}

int PassthroughFs::Lookup(uint64_t parent, std::string_view name, fuse_entry_out& out) {
  int err = 0;
  const Inode* dir = Directory(parent, err);
  if (!dir) return err;
  if ((err = CheckName(name))) return err;
  return EnterChild(dir->fd.get(), name, out);
}

int PassthroughFs::GetAttr(uint64_t nodeid, fuse_attr& out) {
  const Inode* inode = inodes_.Find(nodeid);
  if (!inode) return ESTALE;
  struct stat st {};
  if (int err = Stat(inode->fd.get(), st)) return err;
  ToAttr(st, out);
  return 0;
}

int PassthroughFs::SetAttr(uint64_t nodeid, const fuse_setattr_in& in, fuse_attr& out) {
  if (read_only_) return EROFS;
  const Inode* inode = inodes_.Find(nodeid);
  if (!inode) return ESTALE;
  const int fd = inode->fd.get();
  const std::string fd_name = std::to_string(fd);
  if (in.valid & FATTR_MODE) {
    if (inode->type == S_IFLNK) return EOPNOTSUPP;
    uint32_t mode = in.mode & 07777;
    if (inode->type != S_IFDIR) mode &= ~kSetIdBits;
    // chmod has no AT_EMPTY_PATH before fchmodat2 (Linux 6.6): go through
    // the fd's magic link, which names exactly this inode.
    if (::fchmodat(proc_fds_.get(), fd_name.c_str(), mode, 0) != 0) return errno;
  }
  if (in.valid & (FATTR_UID | FATTR_GID)) {
    const uid_t uid = (in.valid & FATTR_UID) ? in.uid : static_cast<uid_t>(-1);
    const gid_t gid = (in.valid & FATTR_GID) ? in.gid : static_cast<gid_t>(-1);
    if (::fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return errno;
  }
  if (in.valid & FATTR_SIZE) {
    if (inode->type != S_IFREG) return inode->type == S_IFDIR ? EISDIR : EINVAL;
    int err = 0;
    const int open_fd = (in.valid & FATTR_FH) ? handles_.Find(in.fh, HandleKind::kFile) : -1;
    io::UniqueFd reopened;
    int target = open_fd;
    if (target < 0) {
      reopened = Reopen(*inode, O_WRONLY, err);
      if (!reopened) return err;
      target = reopened.get();
    }
    if (::ftruncate(target, static_cast<off_t>(std::min<uint64_t>(in.size, INT64_MAX))) != 0) return errno;
  }
  if (in.valid & (FATTR_ATIME | FATTR_MTIME)) {
    timespec times[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    if (in.valid & FATTR_ATIME) {
      times[0] = (in.valid & FATTR_ATIME_NOW) ? timespec{0, UTIME_NOW}
                                              : timespec{static_cast<time_t>(in.atime), in.atimensec % 1000000000};
    }
    if (in.valid & FATTR_MTIME) {
      times[1] = (in.valid & FATTR_MTIME_NOW) ? timespec{0, UTIME_NOW}
                                              : timespec{static_cast<time_t>(in.mtime), in.mtimensec % 1000000000};
    }
    if (::utimensat(fd, "", times, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return errno;
  }
  return GetAttr(nodeid, out);
}

int PassthroughFs::ReadLink(uint64_t nodeid, std::string& target) {
  const Inode* inode = inodes_.Find(nodeid);
  if (!inode) return ESTALE;
  if (inode->type != S_IFLNK) return EINVAL;
  std::vector<char> buf(kMaxSymlinkTarget);
  const ssize_t n = ::readlinkat(inode->fd.get(), "", buf.data(), buf.size());
  if (n < 0) return errno;
  target.assign(buf.data(), static_cast<size_t>(n));
  return 0;
}

int PassthroughFs::Symlink(uint64_t parent, std::string_view name, std::string_view target, Caller who,
                           fuse_entry_out& out) {
  if (read_only_) return EROFS;
  int err = 0;
  const Inode* dir = Directory(parent, err);
  if (!dir) return err;
  if ((err = CheckName(name))) return err;
  // The target is only data stored in the link: the host never follows it.
  if (target.empty() || target.size() >= kMaxSymlinkTarget || target.find('\0') != std::string_view::npos)
    return EINVAL;
  if (::symlinkat(Str(target).c_str(), dir->fd.get(), Str(name).c_str()) != 0) return errno;
  GiveTo(dir->fd.get(), name, who);
  return EnterChild(dir->fd.get(), name, out);
}

int PassthroughFs::Mknod(uint64_t parent, std::string_view name, uint32_t mode, Caller who, fuse_entry_out& out) {
  if (read_only_) return EROFS;
  // Regular files and FIFOs only: no device nodes on the host.
  const uint32_t type = mode & S_IFMT;
  if (type != S_IFREG && type != S_IFIFO) return EPERM;
  int err = 0;
  const Inode* dir = Directory(parent, err);
  if (!dir) return err;
  if ((err = CheckName(name))) return err;
  if (::mknodat(dir->fd.get(), Str(name).c_str(), type | (mode & 07777 & ~kSetIdBits), 0) != 0) return errno;
  GiveTo(dir->fd.get(), name, who);
  return EnterChild(dir->fd.get(), name, out);
}

int PassthroughFs::Mkdir(uint64_t parent, std::string_view name, uint32_t mode, Caller who, fuse_entry_out& out) {
  if (read_only_) return EROFS;
  int err = 0;
  const Inode* dir = Directory(parent, err);
  if (!dir) return err;
  if ((err = CheckName(name))) return err;
  if (::mkdirat(dir->fd.get(), Str(name).c_str(), mode & 07777) != 0) return errno;
  GiveTo(dir->fd.get(), name, who);
  return EnterChild(dir->fd.get(), name, out);
}

int PassthroughFs::Unlink(uint64_t parent, std::string_view name) {
  if (read_only_) return EROFS;
  int err = 0;
  const Inode* dir = Directory(parent, err);
  if (!dir) return err;
  if ((err = CheckName(name))) return err;
  return ::unlinkat(dir->fd.get(), Str(name).c_str(), 0) == 0 ? 0 : errno;
}

int PassthroughFs::Rmdir(uint64_t parent, std::string_view name) {
  if (read_only_) return EROFS;
  int err = 0;
  const Inode* dir = Directory(parent, err);
  if (!dir) return err;
  if ((err = CheckName(name))) return err;
  return ::unlinkat(dir->fd.get(), Str(name).c_str(), AT_REMOVEDIR) == 0 ? 0 : errno;
}

int PassthroughFs::Rename(uint64_t old_parent, std::string_view old_name, uint64_t new_parent,
                          std::string_view new_name, uint32_t flags) {
  if (read_only_) return EROFS;
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) return EINVAL;
  int err = 0;
  const Inode* from = Directory(old_parent, err);
  if (!from) return err;
  const Inode* to = Directory(new_parent, err);
  if (!to) return err;
  if ((err = CheckName(old_name)) || (err = CheckName(new_name))) return err;
  return ::renameat2(from->fd.get(), Str(old_name).c_str(), to->fd.get(), Str(new_name).c_str(), flags) == 0
             ? 0
             : errno;
}

int PassthroughFs::Link(uint64_t nodeid, uint64_t new_parent, std::string_view new_name, fuse_entry_out& out) {
  if (read_only_) return EROFS;
  const Inode* inode = inodes_.Find(nodeid);
  if (!inode) return ESTALE;
  if (inode->type == S_IFDIR) return EPERM;
  int err = 0;
  const Inode* dir = Directory(new_parent, err);
  if (!dir) return err;
  if ((err = CheckName(new_name))) return err;
  // linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; the magic link does
  // not and names the same inode.
  const std::string fd_name = std::to_string(inode->fd.get());
  if (::linkat(proc_fds_.get(), fd_name.c_str(), dir->fd.get(), Str(new_name).c_str(), AT_SYMLINK_FOLLOW) != 0)
    return errno;
  return EnterChild(dir->fd.get(), new_name, out);
}

int PassthroughFs::Open(uint64_t nodeid, uint32_t flags, uint64_t& fh) {
  const Inode* inode = inodes_.Find(nodeid);
  if (!inode) return ESTALE;
  if (inode->type == S_IFDIR) return EISDIR;
  const int f = static_cast<int>(flags) & kAllowedOpenFlags;
  if (read_only_ && ((f & O_ACCMODE) != O_RDONLY || (f & O_TRUNC))) return EROFS;
  int err = 0;
  io::UniqueFd fd = Reopen(*inode, f, err);
  if (!fd) return err;
  const HandleRef ref = handles_.Add(std::move(fd), HandleKind::kFile);
  if (ref.error) return ref.error;
  fh = ref.fh;
  return 0;
}

int PassthroughFs::Create(uint64_t parent, std::string_view name, uint32_t flags, uint32_t mode, Caller who,
                          fuse_entry_out& entry, uint64_t& fh) {
  if (read_only_) return EROFS;
  int err = 0;
  const Inode* dir = Directory(parent, err);
  if (!dir) return err;
  if ((err = CheckName(name))) return err;
  const uint64_t f = (static_cast<int>(flags) & (kAllowedOpenFlags | O_EXCL)) | O_CREAT;
  io::UniqueFd fd(OpenBeneath(dir->fd.get(), name, f, mode & 07777 & ~kSetIdBits));
  if (!fd) return errno;
  GiveTo(dir->fd.get(), name, who);
  if ((err = EnterChild(dir->fd.get(), name, entry))) return err;
  const HandleRef ref = handles_.Add(std::move(fd), HandleKind::kFile);
  if (ref.error) {
    inodes_.Forget(entry.nodeid, 1);
    return ref.error;
  }
  fh = ref.fh;
  return 0;
}

int PassthroughFs::Read(uint64_t fh, uint64_t offset, uint32_t size, std::vector<uint8_t>& out) {
  const int fd = handles_.Find(fh, HandleKind::kFile);
  if (fd < 0) return EBADF;
  if (offset > INT64_MAX) return EINVAL;
  const size_t base = out.size();
  out.resize(base + size);
  const ssize_t n = ::pread(fd, out.data() + base, size, static_cast<off_t>(offset));
  if (n < 0) {
    out.resize(base);
    return errno;
  }
  out.resize(base + static_cast<size_t>(n));
  return 0;
}

int PassthroughFs::ReadInto(uint64_t fh, uint64_t offset, std::span<const iovec> buffers, size_t& read) {
  const int fd = handles_.Find(fh, HandleKind::kFile);
  if (fd < 0) return EBADF;
  if (offset > INT64_MAX) return EINVAL;
  read = 0;
  if (buffers.empty()) return 0;
  const ssize_t n = ::preadv(fd, buffers.data(), static_cast<int>(buffers.size()), static_cast<off_t>(offset));
  if (n < 0) return errno;
  read = static_cast<size_t>(n);
  return 0;
}

int PassthroughFs::Write(uint64_t fh, uint64_t offset, std::span<const uint8_t> data, uint32_t& written) {
  if (read_only_) return EROFS;
  const int fd = handles_.Find(fh, HandleKind::kFile);
  if (fd < 0) return EBADF;
  if (offset > INT64_MAX) return EINVAL;
  const ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
  if (n < 0) return errno;
  written = static_cast<uint32_t>(n);
  return 0;
}

int PassthroughFs::Fsync(uint64_t fh, bool datasync, HandleKind kind) {
  const int fd = handles_.Find(fh, kind);
  if (fd < 0) return EBADF;
  return (datasync ? ::fdatasync(fd) : ::fsync(fd)) == 0 ? 0 : errno;
}

int PassthroughFs::OpenDir(uint64_t nodeid, uint64_t& fh) {
  const Inode* inode = inodes_.Find(nodeid);
  if (!inode) return ESTALE;
  if (inode->type != S_IFDIR) return ENOTDIR;
  io::UniqueFd fd(::openat(inode->fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return errno;
  const HandleRef ref = handles_.Add(std::move(fd), HandleKind::kDirectory);
  if (ref.error) return ref.error;
  fh = ref.fh;
  return 0;
}

int PassthroughFs::ReadDir(uint64_t fh, uint64_t offset, uint32_t size, std::vector<uint8_t>& out) {
  const int fd = handles_.Find(fh, HandleKind::kDirectory);
  if (fd < 0) return EBADF;
  if (offset > INT64_MAX) return EINVAL;
  // The offset is a cookie from an earlier d_off (or 0): seekdir semantics.
  if (::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) return errno;
  std::vector<uint8_t> raw(std::max<uint32_t>(size, 1024));
  const long n = ::syscall(SYS_getdents64, fd, raw.data(), raw.size());
  if (n < 0) return errno;
  size_t used = 0;
  for (long pos = 0; pos < n;) {
    struct Dirent64 {
      uint64_t d_ino;
      int64_t d_off;
      uint16_t d_reclen;
      uint8_t d_type;
    } d{};
    std::memcpy(&d, raw.data() + pos, offsetof(Dirent64, d_type) + 1);
    const char* name = reinterpret_cast<const char*>(raw.data() + pos + 19);
    const size_t namelen = ::strnlen(name, d.d_reclen - 19);
    const size_t rec = FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + namelen);
    if (used + rec > size) break;  // the rest comes with the next request, from d_off
    fuse_dirent fd_out{};
    fd_out.ino = d.d_ino;
    fd_out.off = static_cast<uint64_t>(d.d_off);
    fd_out.namelen = static_cast<uint32_t>(namelen);
    fd_out.type = d.d_type;
    const size_t at = out.size();
    out.resize(at + rec, 0);
    std::memcpy(out.data() + at, &fd_out, FUSE_NAME_OFFSET);
    std::memcpy(out.data() + at + FUSE_NAME_OFFSET, name, namelen);
    used += rec;
    pos += d.d_reclen;
  }
  if (used == 0 && n > 0) return EINVAL;  // the buffer cannot hold even one entry
  return 0;
}

int PassthroughFs::StatFs(uint64_t nodeid, fuse_kstatfs& out) {
  const Inode* inode = inodes_.Find(nodeid);
  if (!inode) return ESTALE;
  struct statfs s {};
  if (::fstatfs(inode->fd.get(), &s) != 0) return errno;
  out = {};
  out.blocks = s.f_blocks;
  out.bfree = s.f_bfree;
  out.bavail = s.f_bavail;
  out.files = s.f_files;
  out.ffree = s.f_ffree;
  out.bsize = static_cast<uint32_t>(s.f_bsize);
  out.namelen = static_cast<uint32_t>(std::min<long>(s.f_namelen, kMaxNameLength));
  out.frsize = static_cast<uint32_t>(s.f_frsize);
  return 0;
}

int PassthroughFs::Access(uint64_t nodeid, uint32_t mask) {
  const Inode* inode = inodes_.Find(nodeid);
  if (!inode) return ESTALE;
  if (read_only_ && (mask & W_OK)) return EROFS;
  // Permission checks are the guest kernel's (it sees the host's modes);
  // the host enforces its own on every call anyway.
  return 0;
}

int PassthroughFs::Lseek(uint64_t fh, uint64_t offset, uint32_t whence, uint64_t& out) {
  const int fd = handles_.Find(fh, HandleKind::kFile);
  if (fd < 0) return EBADF;
  if (whence != SEEK_DATA && whence != SEEK_HOLE) return EINVAL;
  if (offset > INT64_MAX) return EINVAL;
  const off_t r = ::lseek(fd, static_cast<off_t>(offset), static_cast<int>(whence));
  if (r < 0) return errno;
  out = static_cast<uint64_t>(r);
  return 0;
}

int PassthroughFs::Fallocate(uint64_t fh, uint64_t offset, uint64_t length, uint32_t mode) {
  if (read_only_) return EROFS;
  const int fd = handles_.Find(fh, HandleKind::kFile);
  if (fd < 0) return EBADF;
  if (mode & ~static_cast<uint32_t>(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
    return EOPNOTSUPP;
  if (offset > INT64_MAX || length > INT64_MAX || length == 0) return EINVAL;
  return ::fallocate(fd, static_cast<int>(mode), static_cast<off_t>(offset), static_cast<off_t>(length)) == 0
             ? 0
             : errno;
}

void PassthroughFs::Destroy() {
  handles_.Clear();
  inodes_.Clear();
}

}  // namespace hull::vmm::fuse
