// The FUSE wire protocol (linux/fuse.h) on top of PassthroughFs: takes one
// request as the guest wrote it (fuse_in_header + operation arguments),
// checks every length and count in it, runs the operation and builds the
// reply (fuse_out_header + results), never longer than the room the guest
// gave for it. The transport (virtio-fs) moves the bytes.
//
// Not thread-safe: one thread serves one file system.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "fuse/passthrough_fs.h"

namespace hull::vmm::fuse {

// Largest WRITE payload and READ size offered at INIT (256 pages).
inline constexpr uint32_t kMaxWrite = 1u << 20;
inline constexpr uint16_t kMaxPages = kMaxWrite / 4096;
// Largest request accepted: a full WRITE with its headers. Anything longer
// is refused without being copied.
inline constexpr size_t kMaxRequestBytes = sizeof(fuse_in_header) + sizeof(fuse_write_in) + kMaxWrite;

class FuseServer {
 public:
  explicit FuseServer(PassthroughFs& fs) : fs_(fs) {}

  // Serves one request. Returns the reply bytes, at most `reply_capacity`;
  // empty when the operation has no reply (FORGET, BATCH_FORGET, INTERRUPT)
  // or not even an error header fits.
  std::vector<uint8_t> Handle(std::span<const uint8_t> request, size_t reply_capacity);
  // The same, writing the reply into `reply_buffers` (the chain's writable
  // part, in order); returns how many bytes it wrote. READ data goes from
  // the host file straight into them, without a copy in between.
  size_t Handle(std::span<const uint8_t> request, std::span<const std::span<uint8_t>> reply_buffers);

  bool initialized() const { return initialized_; }
  // The transport was reset: back to before INIT, nothing open or known.
  void Reset() {
    fs_.Destroy();
    initialized_ = false;
  }

 private:
  // READ into the reply buffers; nullopt when the request is not a
  // well-formed READ (then the generic path answers it).
  std::optional<size_t> DirectRead(const fuse_in_header& in, std::span<const uint8_t> body,
                                   std::span<const std::span<uint8_t>> reply_buffers, size_t capacity);
  std::vector<uint8_t> Dispatch(const fuse_in_header& in, std::span<const uint8_t> body, size_t reply_capacity);

  PassthroughFs& fs_;
  bool initialized_ = false;
};

}  // namespace hull::vmm::fuse
