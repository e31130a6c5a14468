#include "devices/virtio/virtio_blk.h"

#include <linux/virtio_blk.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "devices/virtio/device_error.h"

namespace hull::vmm::virtio {
namespace {

constexpr size_t kIdBytes = VIRTIO_BLK_ID_BYTES;  // 20

struct RequestHeader {
  uint32_t type;
  uint32_t reserved;
  uint64_t sector;
};
static_assert(sizeof(RequestHeader) == 16);

struct DiscardSegment {
  uint64_t sector;
  uint32_t num_sectors;
  uint32_t flags;
};
static_assert(sizeof(DiscardSegment) == 16);

template <typename T>
void Put(std::vector<uint8_t>& space, size_t offset, T value) {
  std::memcpy(space.data() + offset, &value, sizeof value);
}

uint64_t Features(const BlockOptions& o) {
  uint64_t f = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_FLUSH);
  if (o.read_only) {
    f |= 1ull << VIRTIO_BLK_F_RO;
  } else {
    f |= (1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES);
  }
  return f;
}

// Whether [sector, sector + count) lies inside a disk of `capacity` sectors,
// without overflow.
bool InRange(uint64_t sector, uint64_t count, uint64_t capacity) {
  return sector <= capacity && count <= capacity - sector;
}

}  // namespace

VirtioBlock::VirtioBlock(const BlockOptions& options, io::EventLoop& loop)
    : VirtioDevice(kDeviceTypeBlock, Features(options), {kQueueSize}),
      options_(options),
      loop_(loop),
      image_(std::make_shared<const DiskImage>(options.path, options.read_only, options.direct_io)),
      pool_(options.workers, options.worker_setup) {
  if (options.serial.size() > kIdBytes) {
    throw DeviceError("drive serial '" + options.serial + "' is longer than 20 bytes");
  }
  BuildConfigSpace();
  loop_.Add(completion_bell_.fd(), EPOLLIN, [this](uint32_t) {
    completion_bell_.Consume();
    Guarded([this] { DrainCompletions(); });
  });
}

VirtioBlock::~VirtioBlock() {
  pool_.Drain();
  loop_.Remove(completion_bell_.fd());
}

uint64_t VirtioBlock::capacity_sectors() const {
  std::lock_guard lock(mutex());
  return image_->sectors();
}

void VirtioBlock::BuildConfigSpace() {
  config_space_.assign(sizeof(virtio_blk_config), 0);
  Put<uint64_t>(config_space_, offsetof(virtio_blk_config, capacity), image_->sectors());
  Put<uint32_t>(config_space_, offsetof(virtio_blk_config, seg_max), kMaxSegments);
  Put<uint32_t>(config_space_, offsetof(virtio_blk_config, blk_size), DiskImage::kSectorSize);
  Put<uint16_t>(config_space_, offsetof(virtio_blk_config, num_queues), 1);
  Put<uint32_t>(config_space_, offsetof(virtio_blk_config, max_discard_sectors), kMaxDiscardSectors);
  Put<uint32_t>(config_space_, offsetof(virtio_blk_config, max_discard_seg), 1);
  Put<uint32_t>(config_space_, offsetof(virtio_blk_config, discard_sector_alignment), 1);
  Put<uint32_t>(config_space_, offsetof(virtio_blk_config, max_write_zeroes_sectors), kMaxDiscardSectors);
  Put<uint32_t>(config_space_, offsetof(virtio_blk_config, max_write_zeroes_seg), 1);
}

void VirtioBlock::ReplaceImage(const std::string& path) {
  auto fresh = std::make_shared<const DiskImage>(path, options_.read_only, options_.direct_io);
  std::lock_guard lock(mutex());
  image_ = std::move(fresh);  // in-flight jobs keep the old one alive
  options_.path = path;
  BuildConfigSpace();
  SignalConfigChange();
}

void VirtioBlock::OnReset() { ++generation_; }

void VirtioBlock::ProcessQueue(size_t index) {
  Queue& q = queues()[index];
  do {
    while (auto chain = q.Pop()) StartRequest(*chain);
  } while (q.EnableNotification());
  SignalUsed(q);
}

void VirtioBlock::StartRequest(const DescriptorChain& chain) {
  if (chain.writable_bytes() == 0) throw VirtioError("virtio-blk request has no status byte");
  // The status byte is the last writable byte.
  std::span<uint8_t> last = chain.writable().back();
  Completion done{generation_, chain.head(), VIRTIO_BLK_S_OK, 1, last.subspan(last.size() - 1, 1)};
  RequestHeader header{};
  if (chain.CopyFromReadable(0, {reinterpret_cast<uint8_t*>(&header), sizeof header}) != sizeof header) {
    done.status = VIRTIO_BLK_S_IOERR;
    return Complete(done);
  }
  const uint64_t capacity = image_->sectors();
  // Data buffers: readable bytes after the header (writes) or writable bytes
  // before the status byte (reads, get-id).
  std::vector<iovec> data;
  uint64_t data_len = 0;
  if (header.type == VIRTIO_BLK_T_IN || header.type == VIRTIO_BLK_T_GET_ID) {
    uint64_t left = chain.writable_bytes() - 1;
    for (auto part : chain.writable()) {
      const size_t n = std::min<uint64_t>(part.size(), left);
      if (n > 0) data.push_back({part.data(), n});
      left -= n;
    }
    data_len = chain.writable_bytes() - 1;
  } else if (header.type == VIRTIO_BLK_T_OUT) {
    uint64_t skip = sizeof header;
    for (auto part : chain.readable()) {
      if (skip >= part.size()) {
        skip -= part.size();
        continue;
      }
      data.push_back({part.data() + skip, part.size() - skip});
      skip = 0;
    }
    data_len = chain.readable_bytes() - sizeof header;
  }
  if (data.size() > kMaxSegments + 2) {
    done.status = VIRTIO_BLK_S_IOERR;
    return Complete(done);
  }
  std::shared_ptr<const DiskImage> image = image_;
  auto submit = [this, image](Completion c, auto&& work) {
    pool_.Submit([this, image, c, work = std::move(work)]() mutable {
      if (int err = work(*image); err != 0) {
        c.status = VIRTIO_BLK_S_IOERR;
        c.written = 1;
      }
      {
        std::lock_guard lock(completions_mu_);
        completions_.push_back(c);
      }
      completion_bell_.Signal();
    });
  };

  switch (header.type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT: {
      if (data_len % DiskImage::kSectorSize != 0 ||
          !InRange(header.sector, data_len / DiskImage::kSectorSize, capacity)) {
        done.status = VIRTIO_BLK_S_IOERR;
        return Complete(done);
      }
      if (header.type == VIRTIO_BLK_T_OUT && image->read_only()) {
        done.status = VIRTIO_BLK_S_IOERR;
        return Complete(done);
      }
      const uint64_t offset = header.sector * DiskImage::kSectorSize;
      if (header.type == VIRTIO_BLK_T_IN) {
        done.written = static_cast<uint32_t>(data_len + 1);
        submit(done, [data = std::move(data), offset](const DiskImage& img) { return img.ReadAt(data, offset); });
      } else {
        submit(done, [data = std::move(data), offset](const DiskImage& img) { return img.WriteAt(data, offset); });
      }
      return;
    }
    case VIRTIO_BLK_T_FLUSH:
      submit(done, [](const DiskImage& img) { return img.Flush(); });
      return;
    case VIRTIO_BLK_T_GET_ID: {
      uint8_t id[kIdBytes] = {};
      std::memcpy(id, options_.serial.data(), std::min(options_.serial.size(), kIdBytes));
      // Written into the data part (not the status byte).
      uint64_t copied = 0;
      for (const auto& v : data) {
        const size_t n = std::min<uint64_t>(v.iov_len, kIdBytes - copied);
        std::memcpy(v.iov_base, id + copied, n);
        copied += n;
        if (copied == kIdBytes) break;
      }
      done.written = static_cast<uint32_t>(copied + 1);
      return Complete(done);
    }
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES: {
      DiscardSegment seg{};
      if (image->read_only() ||
          chain.readable_bytes() != sizeof header + sizeof seg ||  // max_*_seg is 1
          chain.CopyFromReadable(sizeof header, {reinterpret_cast<uint8_t*>(&seg), sizeof seg}) != sizeof seg ||
          seg.num_sectors > kMaxDiscardSectors || !InRange(seg.sector, seg.num_sectors, capacity)) {
        done.status = VIRTIO_BLK_S_IOERR;
        return Complete(done);
      }
      const uint64_t offset = seg.sector * DiskImage::kSectorSize;
      const uint64_t length = uint64_t{seg.num_sectors} * DiskImage::kSectorSize;
      if (header.type == VIRTIO_BLK_T_DISCARD) {
        submit(done, [offset, length](const DiskImage& img) { return img.Discard(offset, length); });
      } else {
        submit(done, [offset, length](const DiskImage& img) { return img.WriteZeroes(offset, length); });
      }
      return;
    }
    default:
      done.status = VIRTIO_BLK_S_UNSUPP;
      return Complete(done);
  }
}

void VirtioBlock::Complete(Completion c) {
  if (c.generation != generation_) return;  // the driver reset the device meanwhile
  c.status_byte[0] = c.status;
  queues()[0].AddUsed(c.head, c.written);
}

void VirtioBlock::DrainCompletions() {
  std::vector<Completion> batch;
  {
    std::lock_guard lock(completions_mu_);
    batch.swap(completions_);
  }
  for (auto& c : batch) Complete(c);
  if (!batch.empty()) SignalUsed(queues()[0]);
}

}  // namespace hull::vmm::virtio
