// virtio-blk (virtio 1.x, 5.2) over a raw image: read, write, flush,
// get-id, discard and write-zeroes. The I/O thread parses and checks each
// request, a small worker pool does the (blocking) file I/O straight into
// guest memory, and completions come back to the I/O thread through an
// eventfd, where the status byte and the used ring are written.
#pragma once

#include <sys/uio.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "devices/virtio/disk_image.h"
#include "io/event_fd.h"
#include "io/event_loop.h"
#include "io/thread_pool.h"
#include "virtio/virtio_device.h"

namespace hull::vmm::virtio {

inline constexpr uint32_t kDeviceTypeBlock = 2;

struct BlockOptions {
  std::string path;
  bool read_only = false;
  bool direct_io = false;  // O_DIRECT: bypass the host page cache
  std::string serial;      // answered to GET_ID (at most 20 bytes)
  size_t workers = 2;
  std::function<void()> worker_setup;  // runs first on each I/O worker (its seccomp filter)
};

class VirtioBlock : public VirtioDevice {
 public:
  static constexpr uint16_t kQueueSize = 256;
  // seg_max: data segments per request. A chain also needs the header and the
  // status descriptors, so a queue holds at most kQueueSize - 2 (as QEMU sets
  // it): a 1 MiB read of scattered 4 KiB pages (256) then takes 2 requests, not 3.
  static constexpr uint32_t kMaxSegments = kQueueSize - 2;
  static constexpr uint32_t kMaxDiscardSectors = 1u << 22;  // 2 GiB per discard segment

  // Opens the image; throws DeviceError.
  VirtioBlock(const BlockOptions& options, io::EventLoop& loop);
  ~VirtioBlock() override;

  // PATCH /drives/{id}: swap the backing file (same read-only/O_DIRECT
  // choice); the guest sees the new capacity through a config change.
  // Throws DeviceError and keeps the old file when the new one cannot open.
  void ReplaceImage(const std::string& path);

  uint64_t capacity_sectors() const;

 protected:
  void ProcessQueue(size_t index) override;
  void OnReset() override;

 private:
  struct Completion {
    uint64_t generation;
    uint16_t head;
    uint8_t status;
    uint32_t written;  // bytes written into the chain's writable part
    std::span<uint8_t> status_byte;
  };

  void BuildConfigSpace();
  // Parses one chain; either completes it at once or hands it to a worker.
  void StartRequest(const DescriptorChain& chain);
  void Complete(Completion c);
  void DrainCompletions();

  BlockOptions options_;
  io::EventLoop& loop_;
  std::shared_ptr<const DiskImage> image_;  // shared with in-flight jobs
  uint64_t generation_ = 0;                 // bumped by reset: stale completions are dropped
  io::EventFd completion_bell_;
  std::mutex completions_mu_;
  std::vector<Completion> completions_;
  // Last member: destroyed (joined) first, while everything jobs touch lives.
  io::ThreadPool pool_;
};

}  // namespace hull::vmm::virtio
