#include "devices/virtio/virtio_fs.h"

#include <sys/resource.h>

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
    rlimit files{};
    const uint64_t open_file_limit =
        getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY ? files.rlim_cur : UINT64_MAX;
    return fuse::PassthroughFs(FsOptionsWithinFileLimit(options.fs, open_file_limit));
  } catch (const fuse::FuseError& e) {
    throw DeviceError("virtio-fs '" + options.tag + "': " + e.what());
  }
}

}  // namespace

fuse::FsOptions FsOptionsWithinFileLimit(fuse::FsOptions options, uint64_t open_file_limit) {
  // At least one of each, so a share still opens under a tiny limit (and
  // answers ENFILE beyond it rather than failing to boot).
  options.max_inodes = static_cast<size_t>(std::clamp<uint64_t>(open_file_limit / 4, 1, options.max_inodes));
  options.max_handles = static_cast<size_t>(std::clamp<uint64_t>(open_file_limit / 8, 1, options.max_handles));
  return options;
}

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
