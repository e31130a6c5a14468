#include "devices/virtio/virtio_fs.h"

#include <algorithm>
#include <cstring>

#include "devices/virtio/device_error.h"
#include "fuse/fuse_error.h"

namespace hull::vmm::virtio {
namespace {

fuse::PassthroughFs OpenShare(const FsDeviceOptions& options) {
  if (options.tag.empty() || options.tag.size() > VirtioFs::kTagBytes) {
    throw DeviceError("virtio-fs tag '" + options.tag + "' must be 1 to 36 bytes long");
  }
  try {
    return fuse::PassthroughFs(options.fs);
  } catch (const fuse::FuseError& e) {
    throw DeviceError("virtio-fs '" + options.tag + "': " + e.what());
  }
}

}  // namespace

VirtioFs::VirtioFs(const FsDeviceOptions& options)
    : VirtioDevice(kDeviceTypeFs, 0, {kQueueSize, kQueueSize}),
      tag_(options.tag),
      fs_(OpenShare(options)),
      server_(fs_) {
  // struct virtio_fs_config: u8 tag[36] (not NUL-terminated when full),
  // le32 num_request_queues.
  config_space_.assign(kTagBytes + sizeof(uint32_t), 0);
  std::memcpy(config_space_.data(), tag_.data(), tag_.size());
  const uint32_t queues = kRequestQueues;
  std::memcpy(config_space_.data() + kTagBytes, &queues, sizeof queues);
}

void VirtioFs::OnReset() { server_.Reset(); }

void VirtioFs::ProcessQueue(size_t index) {
  Queue& q = queues()[index];
  do {
    while (auto chain = q.Pop()) Serve(q, *chain);
  } while (q.EnableNotification());
  SignalUsed(q);
}

void VirtioFs::Serve(Queue& queue, const DescriptorChain& chain) {
  // An oversized request is not copied whole: its header alone makes the
  // server answer EINVAL (the header's length does not match).
  request_.resize(static_cast<size_t>(std::min<uint64_t>(chain.readable_bytes(), fuse::kMaxRequestBytes)));
  if (chain.readable_bytes() > fuse::kMaxRequestBytes) request_.resize(sizeof(fuse_in_header));
  const size_t got = chain.CopyFromReadable(0, request_);
  request_.resize(got);
  const size_t written = server_.Handle(request_, chain.writable());
  queue.AddUsed(chain.head(), static_cast<uint32_t>(written));
}

}  // namespace hull::vmm::virtio
