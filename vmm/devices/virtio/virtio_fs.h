// virtio-fs (virtio 1.2, 5.11): FUSE requests over virtqueues, served in
// the VMM from a host directory (fuse::PassthroughFs) without a separate
// daemon. Queue 0 is the high-priority queue (FORGET, INTERRUPT), queue 1
// the one request queue; no DAX window, no notification queue.
//
// Each chain's readable part is copied out of guest RAM (bounded by
// fuse::kMaxRequestBytes) before it is parsed, so the guest cannot change a
// request under the server; the reply is copied into the writable part and
// never exceeds it. Requests are served on the thread that runs the
// device's queues (VirtioFsSet gives virtio-fs its own), with the device
// mutex held: a slow host file system delays only this device.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fuse/fuse_server.h"
#include "fuse/passthrough_fs.h"
#include "virtio/virtio_device.h"

namespace hull::vmm::virtio {

inline constexpr uint32_t kDeviceTypeFs = 26;

struct FsDeviceOptions {
  std::string tag;  // 1..36 bytes
  fuse::FsOptions fs;
};

// `options` with its inode and handle limits lowered to fit
// `open_file_limit` (RLIMIT_NOFILE): each inode and open handle holds a
// host fd, vsock may hold half of them, so a share keeps at most a quarter
// for inodes and an eighth for handles and the guest cannot starve the
// VMM's own API of fds (EMFILE).
fuse::FsOptions FsOptionsWithinFileLimit(fuse::FsOptions options, uint64_t open_file_limit);

class VirtioFs : public VirtioDevice {
 public:
  // Room for a 1 MiB request in 4 KiB pages plus its headers, as one chain.
  static constexpr uint16_t kQueueSize = 1024;
  static constexpr size_t kTagBytes = 36;
  static constexpr uint32_t kRequestQueues = 1;

  // Opens the share; throws DeviceError (bad tag, missing directory).
  explicit VirtioFs(const FsDeviceOptions& options);

  const std::string& tag() const { return tag_; }

 protected:
  void ProcessQueue(size_t index) override;
  // A reset driver starts over with INIT: forget every inode and handle.
  void OnReset() override;

 private:
  void Serve(Queue& queue, const DescriptorChain& chain);

  std::string tag_;
  fuse::PassthroughFs fs_;
  fuse::FuseServer server_;
  std::vector<uint8_t> request_;  // reused between requests
};

}  // namespace hull::vmm::virtio
