#include "devices/virtio/virtio_net.h"

#include <linux/if_tun.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#include "devices/virtio/device_error.h"

namespace hull::vmm::virtio {
namespace {

constexpr size_t kRxQueue = 0;
constexpr size_t kTxQueue = 1;
constexpr size_t kNumBuffersOffset = 10;  // in virtio_net_hdr_v1
constexpr size_t kConfigSize = 24;        // struct virtio_net_config

// Feature bits (virtio 1.x, 5.1.3); <linux/virtio_net.h> does not compile as C++.
constexpr unsigned VIRTIO_NET_F_CSUM = 0;
constexpr unsigned VIRTIO_NET_F_GUEST_CSUM = 1;
constexpr unsigned VIRTIO_NET_F_MAC = 5;
constexpr unsigned VIRTIO_NET_F_GUEST_TSO4 = 7;
constexpr unsigned VIRTIO_NET_F_GUEST_TSO6 = 8;
constexpr unsigned VIRTIO_NET_F_HOST_TSO4 = 11;
constexpr unsigned VIRTIO_NET_F_HOST_TSO6 = 12;
constexpr unsigned VIRTIO_NET_F_MRG_RXBUF = 15;

uint64_t Features(const NetOptions& o) {
  uint64_t f = (1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_GUEST_TSO4) |
               (1ull << VIRTIO_NET_F_GUEST_TSO6) | (1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6) |
               (1ull << VIRTIO_NET_F_MRG_RXBUF);
  if (o.mac) f |= 1ull << VIRTIO_NET_F_MAC;
  return f;
}

}  // namespace

std::optional<MacAddress> ParseMac(const std::string& text) {
  MacAddress mac{};
  char tail = 0;
  if (text.size() != 17 ||
      std::sscanf(text.c_str(), "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx%c", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4],
                  &mac[5], &tail) != 6) {
    return std::nullopt;
  }
  for (size_t i = 2; i < 17; i += 3) {
    if (text[i] != ':') return std::nullopt;
  }
  return mac;
}

VirtioNet::VirtioNet(const NetOptions& options, io::EventLoop& loop)
    : VirtioDevice(kDeviceTypeNet, Features(options), {kQueueSize, kQueueSize}),
      tap_(options.tap_name),
      loop_(loop),
      rx_frame_(kMaxFrame) {
  if (options.mac && ((*options.mac)[0] & 1)) {
    throw DeviceError("guest MAC address has the multicast bit set: use a unicast address (first byte even)");
  }
  config_space_.assign(kConfigSize, 0);
  if (options.mac) std::memcpy(config_space_.data(), options.mac->data(), 6);
}

VirtioNet::~VirtioNet() {
  std::lock_guard lock(mutex());
  OnReset();
}

void VirtioNet::OnActivate() {
  unsigned offloads = 0;
  if (Negotiated(VIRTIO_NET_F_GUEST_CSUM)) {
    offloads |= TUN_F_CSUM;
    if (Negotiated(VIRTIO_NET_F_GUEST_TSO4)) offloads |= TUN_F_TSO4;
    if (Negotiated(VIRTIO_NET_F_GUEST_TSO6)) offloads |= TUN_F_TSO6;
  }
  try {
    tap_.SetOffloads(offloads);
  } catch (const DeviceError& e) {
    throw VirtioError(e.what());
  }
  UpdateWatch();
}

void VirtioNet::OnReset() {
  if (watched_) loop_.Remove(tap_.fd());
  watched_ = 0;
  rx_frame_len_ = 0;
  tap_readable_ = false;
  tx_blocked_ = false;
}

void VirtioNet::UpdateWatch() {
  uint32_t want = 0;
  if (!tap_readable_ && rx_frame_len_ == 0) want |= EPOLLIN;
  if (tx_blocked_) want |= EPOLLOUT;
  if (want == watched_) return;
  if (want == 0) {
    loop_.Remove(tap_.fd());
  } else if (watched_ == 0) {
    loop_.Add(tap_.fd(), want, [this](uint32_t ev) {
      Guarded([this, ev] {
        if (ev & EPOLLOUT) {
          tx_blocked_ = false;
          ProcessTx();
        }
        if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
          tap_readable_ = true;
          PumpRx();
        }
        UpdateWatch();
      });
    });
  } else {
    loop_.Modify(tap_.fd(), want);
  }
  watched_ = want;
}

void VirtioNet::ProcessQueue(size_t index) {
  if (index == kTxQueue) ProcessTx();
  if (index == kRxQueue) PumpRx();
  UpdateWatch();
}

void VirtioNet::ProcessTx() {
  Queue& q = queues()[kTxQueue];
  bool used = false;
  do {
    while (!tx_blocked_) {
      auto chain = q.Pop();
      if (!chain) break;
      const auto& parts = chain->readable();
      const uint64_t len = chain->readable_bytes();
      if (len >= TapDevice::kVnetHeaderSize && len <= kMaxFrame && parts.size() <= IOV_MAX) {
        std::vector<iovec> iov;
        iov.reserve(parts.size());
        for (auto p : parts) iov.push_back({p.data(), p.size()});
        ssize_t n;
        do {
          n = writev(tap_.fd(), iov.data(), static_cast<int>(iov.size()));
        } while (n < 0 && errno == EINTR);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          q.UndoPop();  // retried when the tap drains
          tx_blocked_ = true;
          break;
        }
        // Other errors (a bad offload header, interface down): the frame is dropped.
      }  // else malformed: dropped, as a NIC drops a bad frame
      q.AddUsed(chain->head(), 0);
      used = true;
    }
  } while (!tx_blocked_ && q.EnableNotification());
  if (used) SignalUsed(q);
}

void VirtioNet::PumpRx() {
  Queue& rx = queues()[kRxQueue];
  if (!rx.active()) return;
  bool delivered = false;
  for (;;) {
    if (rx_frame_len_ == 0) {
      if (!tap_readable_) break;
      ssize_t n = read(tap_.fd(), rx_frame_.data(), rx_frame_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        tap_readable_ = false;
        break;
      }
      if (static_cast<size_t>(n) <= TapDevice::kVnetHeaderSize) continue;  // runt
      rx_frame_len_ = static_cast<size_t>(n);
    }
    if (!DeliverFrame()) {
      // Out of buffers: the tap is not polled while a frame waits, so only
      // the driver's kick for new buffers resumes rx. With EVENT_IDX that kick
      // comes only if avail_event names an entry it has yet to post.
      if (rx.EnableNotificationForMore()) continue;
      break;
    }
    rx_frame_len_ = 0;
    delivered = true;
  }
  if (delivered) SignalUsed(rx);
}

bool VirtioNet::DeliverFrame() {
  Queue& rx = queues()[kRxQueue];
  const bool mergeable = Negotiated(VIRTIO_NET_F_MRG_RXBUF);
  // Gather enough chains for the frame (one without mergeable buffers).
  std::vector<DescriptorChain> chains;
  uint64_t room = 0;
  while (room < rx_frame_len_) {
    if (!chains.empty() && !mergeable) break;
    auto chain = rx.Pop();
    if (!chain) {
      rx.UndoPop(static_cast<uint16_t>(chains.size()));
      return false;
    }
    room += chain->writable_bytes();
    chains.push_back(std::move(*chain));
    if (chains.size() >= rx.size) break;  // the whole ring cannot hold it
  }
  if (room < rx_frame_len_) {
    // Buffers too small for this frame even all together: drop the frame,
    // give the buffers back untouched.
    rx.UndoPop(static_cast<uint16_t>(chains.size()));
    return true;
  }
  const uint16_t count = static_cast<uint16_t>(chains.size());
  std::memcpy(rx_frame_.data() + kNumBuffersOffset, &count, sizeof count);
  size_t offset = 0;
  for (const auto& chain : chains) {
    const size_t n = chain.CopyToWritable(0, {rx_frame_.data() + offset, rx_frame_len_ - offset});
    rx.AddUsed(chain.head(), static_cast<uint32_t>(n));
    offset += n;
  }
  return true;
}

}  // namespace hull::vmm::virtio
