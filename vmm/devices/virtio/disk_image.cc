#include "devices/virtio/disk_image.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "devices/virtio/device_error.h"

namespace hull::vmm::virtio {
namespace {

bool Aligned(std::span<const iovec> iov, uint64_t offset) {
  if (offset % DiskImage::kSectorSize) return false;
  for (const auto& v : iov) {
    if (reinterpret_cast<uintptr_t>(v.iov_base) % DiskImage::kSectorSize || v.iov_len % DiskImage::kSectorSize) {
      return false;
    }
  }
  return true;
}

}  // namespace

DiskImage::DiskImage(const std::string& path, bool read_only, bool direct_io)
    : path_(path), read_only_(read_only), direct_io_(direct_io) {
  int flags = (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | (direct_io ? O_DIRECT : 0);
  fd_.Reset(open(path.c_str(), flags));
  if (!fd_) {
    const int err = errno;
    std::string hint;
    if (err == ENOENT) hint = " (check the drive's path_on_host)";
    if (err == EACCES || err == EROFS) hint = " (make it writable, or attach it with is_read_only)";
    if (err == EINVAL && direct_io) hint = " (this filesystem has no O_DIRECT: turn the direct-I/O option off)";
    errno = err;
    throw DeviceError::FromErrno("opening disk image " + path + hint);
  }
  struct stat st {};
  if (fstat(fd_.get(), &st) != 0) throw DeviceError::FromErrno("stat of disk image " + path);
  if (S_ISBLK(st.st_mode)) {
    if (ioctl(fd_.get(), BLKGETSIZE64, &size_) != 0) throw DeviceError::FromErrno("size of block device " + path);
  } else if (S_ISREG(st.st_mode)) {
    size_ = static_cast<uint64_t>(st.st_size);
  } else {
    throw DeviceError("disk image " + path + " is neither a regular file nor a block device");
  }
  if (size_ % kSectorSize != 0) {
    throw DeviceError("disk image " + path + " is " + std::to_string(size_) +
                      " bytes, not a multiple of 512: pad it (truncate -s %512)");
  }
}

int DiskImage::Transfer(std::span<const iovec> iov, uint64_t offset, bool write) const {
  if (direct_io_ && !Aligned(iov, offset)) return BounceTransfer(iov, offset, write);
  std::vector<iovec> rest(iov.begin(), iov.end());
  size_t first = 0;
  while (first < rest.size()) {
    ssize_t n = write ? pwritev(fd_.get(), rest.data() + first, static_cast<int>(std::min<size_t>(rest.size() - first, IOV_MAX)),
                                static_cast<off_t>(offset))
                      : preadv(fd_.get(), rest.data() + first, static_cast<int>(std::min<size_t>(rest.size() - first, IOV_MAX)),
                               static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) {
      if (write) return EIO;
      // Reading past the end of a file that shrank: the rest reads as zero.
      for (size_t i = first; i < rest.size(); ++i) std::memset(rest[i].iov_base, 0, rest[i].iov_len);
      return 0;
    }
    offset += static_cast<uint64_t>(n);
    size_t left = static_cast<size_t>(n);
    while (first < rest.size() && left >= rest[first].iov_len) left -= rest[first++].iov_len;
    if (left > 0) {
      rest[first].iov_base = static_cast<uint8_t*>(rest[first].iov_base) + left;
      rest[first].iov_len -= left;
    }
  }
  return 0;
}

int DiskImage::BounceTransfer(std::span<const iovec> iov, uint64_t offset, bool write) const {
  size_t total = 0;
  for (const auto& v : iov) total += v.iov_len;
  // O_DIRECT wants sector-aligned offset and length too: widen to sectors.
  const uint64_t start = offset / kSectorSize * kSectorSize;
  const uint64_t end = (offset + total + kSectorSize - 1) / kSectorSize * kSectorSize;
  const size_t len = end - start;
  std::unique_ptr<uint8_t, decltype(&std::free)> buf(static_cast<uint8_t*>(std::aligned_alloc(4096, (len + 4095) / 4096 * 4096)),
                                                     &std::free);
  if (!buf) return ENOMEM;
  iovec whole{buf.get(), len};
  if (write && (start != offset || end != offset + total)) {
    if (int err = Transfer({&whole, 1}, start, false)) return err;  // read-modify-write of the edges
  }
  uint8_t* at = buf.get() + (offset - start);
  if (write) {
    for (const auto& v : iov) {
      std::memcpy(at, v.iov_base, v.iov_len);
      at += v.iov_len;
    }
    return Transfer({&whole, 1}, start, true);
  }
  if (int err = Transfer({&whole, 1}, start, false)) return err;
  for (const auto& v : iov) {
    std::memcpy(v.iov_base, at, v.iov_len);
    at += v.iov_len;
  }
  return 0;
}

int DiskImage::ReadAt(std::span<const iovec> iov, uint64_t offset) const { return Transfer(iov, offset, false); }

int DiskImage::WriteAt(std::span<const iovec> iov, uint64_t offset) const {
  if (read_only_) return EROFS;
  return Transfer(iov, offset, true);
}

int DiskImage::Flush() const {
  if (read_only_) return 0;
  return fdatasync(fd_.get()) == 0 ? 0 : errno;
}

int DiskImage::Discard(uint64_t offset, uint64_t length) const {
  if (read_only_) return EROFS;
  if (fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                static_cast<off_t>(length)) == 0) {
    return 0;
  }
  // Discard is a hint: a filesystem without hole punching just keeps the data.
  return errno == EOPNOTSUPP ? 0 : errno;
}

int DiskImage::WriteZeroes(uint64_t offset, uint64_t length) const {
  if (read_only_) return EROFS;
  if (fallocate(fd_.get(), FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                static_cast<off_t>(length)) == 0) {
    return 0;
  }
  if (errno != EOPNOTSUPP) return errno;
  // No ZERO_RANGE here: write zeroes in 64 KiB pieces.
  std::unique_ptr<uint8_t, decltype(&std::free)> zeros(static_cast<uint8_t*>(std::aligned_alloc(4096, 65536)), &std::free);
  if (!zeros) return ENOMEM;
  std::memset(zeros.get(), 0, 65536);
  while (length > 0) {
    iovec v{zeros.get(), static_cast<size_t>(std::min<uint64_t>(length, 65536))};
    if (int err = Transfer({&v, 1}, offset, true)) return err;
    offset += v.iov_len;
    length -= v.iov_len;
  }
  return 0;
}

}  // namespace hull::vmm::virtio
