// A raw disk image (regular file or block device) opened for a virtio-blk
// device. Thread-safe: positional I/O only, so the blk workers share it.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <span>
#include <string>

#include "io/unique_fd.h"

namespace hull::vmm::virtio {

class DiskImage {
 public:
  static constexpr uint64_t kSectorSize = 512;

  // Opens `path`; throws DeviceError naming the path and the reason.
  DiskImage(const std::string& path, bool read_only, bool direct_io);

  uint64_t size_bytes() const { return size_; }
  uint64_t sectors() const { return size_ / kSectorSize; }
  bool read_only() const { return read_only_; }
  const std::string& path() const { return path_; }

  // Whole-request I/O at `offset`: loops over short transfers; returns 0 or
  // an errno. With O_DIRECT and buffers that are not 512-byte aligned, goes
  // through an aligned bounce buffer.
  int ReadAt(std::span<const iovec> iov, uint64_t offset) const;
  int WriteAt(std::span<const iovec> iov, uint64_t offset) const;
  int Flush() const;
  int Discard(uint64_t offset, uint64_t length) const;
  int WriteZeroes(uint64_t offset, uint64_t length) const;

 private:
  int Transfer(std::span<const iovec> iov, uint64_t offset, bool write) const;
  int BounceTransfer(std::span<const iovec> iov, uint64_t offset, bool write) const;

  std::string path_;
  bool read_only_;
  bool direct_io_;
  io::UniqueFd fd_;
  uint64_t size_ = 0;
};

}  // namespace hull::vmm::virtio
