#include "devices/virtio/virtio_vsock.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cstring>
#include <vector>

#include "devices/virtio/device_error.h"
#include "io/io_error.h"
#include "io/unix_socket.h"

namespace hull::vmm::virtio {
namespace {

constexpr size_t kRxQueue = 0;
constexpr size_t kTxQueue = 1;
constexpr size_t kHeaderSize = sizeof(vsock::Header);
constexpr size_t kMaxConnections = 1024;
constexpr size_t kMaxPendingHostConnections = 64;
constexpr size_t kMaxControlPackets = 4096;
constexpr size_t kMaxConnectLine = 32;  // "CONNECT 4294967295\n" fits

}  // namespace

size_t VsockConnectionLimit(uint64_t open_file_limit) {
  // Every connection holds a host fd. A guest that opens connections until
  // EMFILE starved the rest of hull-vmm (the API answered nothing: found by
  // the hostile-guest e2e test), so guests get at most half the fds.
  return static_cast<size_t>(std::min<uint64_t>(kMaxConnections, open_file_limit / 2));
}

VirtioVsock::VirtioVsock(const VsockOptions& options, io::EventLoop& loop)
    : VirtioDevice(kDeviceTypeVsock, 0, {kQueueSize, kQueueSize, kQueueSize}), options_(options), loop_(loop) {
  rlimit files{};
  max_connections_ = VsockConnectionLimit(getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY
                                              ? files.rlim_cur
                                              : UINT64_MAX);
  if (options.guest_cid < 3 || options.guest_cid >= 0xffffffffull) {
    throw DeviceError("vsock guest_cid " + std::to_string(options.guest_cid) +
                      " is reserved: use a CID from 3 to 4294967294");
  }
  try {
    listener_ = io::ListenUnix(options.uds_path);
  } catch (const io::IoError& e) {
    throw DeviceError(std::string("vsock uds_path: ") + e.what());
  }
  config_space_.resize(8);
  std::memcpy(config_space_.data(), &options_.guest_cid, 8);
}

VirtioVsock::~VirtioVsock() {
  {
    std::lock_guard lock(mutex());
    OnReset();
  }
  unlink(options_.uds_path.c_str());
}

size_t VirtioVsock::connection_count() const {
  std::lock_guard lock(mutex());
  return connections_.size();
}

void VirtioVsock::OnActivate() {
  if (listener_watched_) return;
  loop_.Add(listener_.get(), EPOLLIN, [this](uint32_t) { Guarded([this] { OnListenerReady(); }); });
  listener_watched_ = true;
}

void VirtioVsock::OnReset() {
  for (auto& [key, c] : connections_) {
    if (c->watched) loop_.Remove(c->fd.get());
  }
  connections_.clear();
  for (auto& [fd, owned] : pending_) loop_.Remove(fd);
  pending_.clear();
  control_.clear();
  if (listener_watched_) loop_.Remove(listener_.get());
  listener_watched_ = false;
}

void VirtioVsock::ProcessQueue(size_t index) {
  if (index == kTxQueue) ProcessTx();
  if (index == kTxQueue || index == kRxQueue) PumpRx();
  // The event queue (2) only carries transport-reset events, which hull
  // never sends: its buffers stay with the device.
}

// ---------------------------------------------------------------- guest -> host

void VirtioVsock::ProcessTx() {
  Queue& q = queues()[kTxQueue];
  do {
    while (auto chain = q.Pop()) {
      vsock::Header h{};
      if (chain->CopyFromReadable(0, {reinterpret_cast<uint8_t*>(&h), kHeaderSize}) == kHeaderSize) {
        HandleGuestPacket(h, *chain);
      }  // shorter than a header: dropped
      q.AddUsed(chain->head(), 0);
    }
  } while (q.EnableNotification());
  SignalUsed(q);
}

void VirtioVsock::HandleGuestPacket(const vsock::Header& h, const DescriptorChain& chain) {
  // Only the guest's own CID talking to the host: anything else is dropped.
  if (h.src_cid != options_.guest_cid || h.dst_cid != vsock::kHostCid) return;
  const Key key{h.dst_port, h.src_port};
  if (h.type != vsock::kTypeStream) {
    if (h.op != vsock::kOpRst) QueueRst(key.first, key.second);
    return;
  }
  auto it = connections_.find(key);
  if (h.op == vsock::kOpRequest) {
    if (it != connections_.end()) {
      QueueRst(key.first, key.second);
      Close(key);
      return;
    }
    HandleGuestRequest(h);
    return;
  }
  if (it == connections_.end()) {
    if (h.op != vsock::kOpRst) QueueRst(key.first, key.second);
    return;
  }
  Connection& c = *it->second;
  c.peer_buf_alloc = h.buf_alloc;
  c.peer_fwd_cnt = h.fwd_cnt;
  switch (h.op) {
    case vsock::kOpResponse: {
      if (c.state != State::kConnecting || !c.host_initiated) {
        QueueRst(key.first, key.second);
        Close(key);
        return;
      }
      c.state = State::kEstablished;
      const std::string ok = "OK " + std::to_string(c.local_port) + "\n";
      if (send(c.fd.get(), ok.data(), ok.size(), MSG_NOSIGNAL | MSG_DONTWAIT) != static_cast<ssize_t>(ok.size())) {
        QueueRst(key.first, key.second);
        Close(key);
        return;
      }
      UpdateWatch(c);
      return;
    }
    case vsock::kOpRw:
      if (c.state != State::kEstablished || c.guest_shut_send || h.len > chain.readable_bytes() - kHeaderSize) {
        QueueRst(key.first, key.second);
        Close(key);
        return;
      }
      DeliverToHost(c, chain, h.len);
      return;
    case vsock::kOpCreditUpdate:
      return;  // the credit fields above were the point
    case vsock::kOpCreditRequest:
      QueueControl(c, vsock::kOpCreditUpdate);
      return;
    case vsock::kOpShutdown:
      c.guest_shut_recv |= (h.flags & vsock::kShutdownReceive) != 0;
      c.guest_shut_send |= (h.flags & vsock::kShutdownSend) != 0;
      if (c.guest_shut_recv && c.guest_shut_send) {
        // The guest closed: confirm with RST, as its close() waits for one.
        QueueRst(key.first, key.second);
        Close(key);
        return;
      }
      if (c.guest_shut_send && c.to_host.empty()) shutdown(c.fd.get(), SHUT_WR);
      return;
    case vsock::kOpRst:
      Close(key);
      return;
    default:
      QueueRst(key.first, key.second);
      Close(key);
      return;
  }
}

void VirtioVsock::HandleGuestRequest(const vsock::Header& h) {
  if (connections_.size() >= max_connections_) {
    QueueRst(h.dst_port, h.src_port);
    return;
  }
  io::UniqueFd fd = io::ConnectUnix(options_.uds_path + "_" + std::to_string(h.dst_port));
  if (!fd) {
    QueueRst(h.dst_port, h.src_port);  // nobody listens for that port
    return;
  }
  auto c = std::make_unique<Connection>();
  c->fd = std::move(fd);
  c->local_port = h.dst_port;
  c->peer_port = h.src_port;
  c->state = State::kEstablished;
  c->peer_buf_alloc = h.buf_alloc;
  c->peer_fwd_cnt = h.fwd_cnt;
  Connection& ref = *c;
  connections_[{h.dst_port, h.src_port}] = std::move(c);
  QueueControl(ref, vsock::kOpResponse);
  UpdateWatch(ref);
}

void VirtioVsock::DeliverToHost(Connection& c, const DescriptorChain& chain, uint32_t len) {
  if (len == 0) return;
  if (c.to_host.size() + len > kBufAlloc) {
    // More than the window we advertised: the guest ignored our credit.
    const Key key{c.local_port, c.peer_port};
    QueueRst(key.first, key.second);
    Close(key);
    return;
  }
  const size_t old = c.to_host.size();
  c.to_host.resize(old + len);
  chain.CopyFromReadable(kHeaderSize, {reinterpret_cast<uint8_t*>(c.to_host.data() + old), len});
  FlushToHost(c);
}

void VirtioVsock::FlushToHost(Connection& c) {
  const Key key{c.local_port, c.peer_port};
  size_t sent = 0;
  while (sent < c.to_host.size()) {
    ssize_t n = send(c.fd.get(), c.to_host.data() + sent, c.to_host.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      QueueRst(key.first, key.second);  // the host end is gone
      Close(key);
      return;
    }
    sent += static_cast<size_t>(n);
  }
  c.to_host.erase(0, sent);
  c.fwd_cnt += static_cast<uint32_t>(sent);
  if (c.to_host.empty() && c.guest_shut_send) shutdown(c.fd.get(), SHUT_WR);
  // Tell the guest about freed window before it runs dry.
  if (c.fwd_cnt - c.fwd_cnt_told >= kBufAlloc / 4) QueueControl(c, vsock::kOpCreditUpdate);
  UpdateWatch(c);
}

// ---------------------------------------------------------------- host -> guest

vsock::Header VirtioVsock::MakeHeader(uint32_t local_port, uint32_t peer_port, uint16_t op, uint32_t fwd_cnt) const {
  vsock::Header h{};
  h.src_cid = vsock::kHostCid;
  h.dst_cid = options_.guest_cid;
  h.src_port = local_port;
  h.dst_port = peer_port;
  h.type = vsock::kTypeStream;
  h.op = op;
  h.buf_alloc = kBufAlloc;
  h.fwd_cnt = fwd_cnt;
  return h;
}

void VirtioVsock::QueueControl(Connection& c, uint16_t op, uint32_t flags) {
  if (control_.size() >= kMaxControlPackets) return;  // guest posts no rx buffers: stop queueing
  vsock::Header h = MakeHeader(c.local_port, c.peer_port, op, c.fwd_cnt);
  h.flags = flags;
  c.fwd_cnt_told = c.fwd_cnt;
  control_.push_back(h);
}

void VirtioVsock::QueueRst(uint32_t local_port, uint32_t peer_port) {
  if (control_.size() >= kMaxControlPackets) return;
  control_.push_back(MakeHeader(local_port, peer_port, vsock::kOpRst, 0));
}

void VirtioVsock::PumpRx() {
  Queue& rx = queues()[kRxQueue];
  if (!rx.active()) return;
  // With EVENT_IDX the driver kicks the rx queue only when it posts the entry
  // named by avail_event: keep that current, or its refills never wake us and
  // data waiting for a buffer (readable sockets are not polled meanwhile)
  // stalls the stream for good. Re-check after publishing it, as ProcessTx does.
  while (PumpRxUntilOutOfBuffers() && rx.EnableNotification()) {
  }
}

bool VirtioVsock::PumpRxUntilOutOfBuffers() {
  Queue& rx = queues()[kRxQueue];
  bool signalled_any = false;
  bool out_of_buffers = false;
  for (bool progress = true; progress;) {
    progress = false;
    while (!control_.empty()) {
      auto chain = rx.Pop();
      if (!chain) goto out_of_buffers;
      if (chain->writable_bytes() < kHeaderSize) throw VirtioError("vsock rx buffer is smaller than a packet header");
      const vsock::Header& h = control_.front();
      chain->CopyToWritable(0, {reinterpret_cast<const uint8_t*>(&h), kHeaderSize});
      rx.AddUsed(chain->head(), kHeaderSize);
      control_.pop_front();
      signalled_any = true;
    }
    std::vector<Key> ready;
    for (auto& [key, c] : connections_) {
      if (c->state == State::kEstablished && c->readable && !c->host_eof && !c->guest_shut_recv && c->PeerCredit() > 0) {
        ready.push_back(key);
      }
    }
    for (const Key& key : ready) {
      auto it = connections_.find(key);
      if (it == connections_.end()) continue;
      if (rx.AvailableCount() == 0) goto out_of_buffers;
      if (FillDataPacket(*it->second)) {
        signalled_any = true;
        progress = true;
      }
    }
    if (!control_.empty()) progress = true;  // an EOF or RST to deliver
  }
  goto done;
out_of_buffers:
  out_of_buffers = true;
done:
  if (signalled_any) SignalUsed(rx);
  return out_of_buffers;
}

bool VirtioVsock::FillDataPacket(Connection& c) {
  Queue& rx = queues()[kRxQueue];
  // One readv() fills up to kRxBatch posted buffers: Linux posts 4 KiB rx
  // buffers, and a system call per buffer was the cost of this path.
  struct Slot {
    DescriptorChain chain;
    uint64_t room;  // data bytes this buffer may carry
  };
  std::vector<Slot> slots;
  std::vector<iovec> iov;
  uint64_t credit = c.PeerCredit();
  while (slots.size() < kRxBatch && credit > 0) {
    auto chain = rx.Pop();
    if (!chain) break;
    if (chain->writable_bytes() <= kHeaderSize) throw VirtioError("vsock rx buffer has no room for data");
    const uint64_t room = std::min<uint64_t>({chain->writable_bytes() - kHeaderSize, kMaxPacketData, credit});
    uint64_t skip = kHeaderSize, left = room;
    for (auto part : chain->writable()) {
      if (left == 0) break;
      if (skip >= part.size()) {
        skip -= part.size();
        continue;
      }
      const size_t n = std::min<uint64_t>(part.size() - skip, left);
      iov.push_back({part.data() + skip, n});
      left -= n;
      skip = 0;
    }
    credit -= room;
    slots.push_back({std::move(*chain), room});
  }
  if (slots.empty()) return false;
  ssize_t n;
  do {
    n = readv(c.fd.get(), iov.data(), static_cast<int>(std::min<size_t>(iov.size(), IOV_MAX)));
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    // Buffers in the order popped: the first ones are full, the last one may
    // be partly filled, the rest go back to the ring untouched.
    uint64_t left = static_cast<uint64_t>(n);
    size_t used = 0;
    for (; used < slots.size() && left > 0; ++used) {
      const auto len = static_cast<uint32_t>(std::min(left, slots[used].room));
      vsock::Header h = MakeHeader(c.local_port, c.peer_port, vsock::kOpRw, c.fwd_cnt);
      h.len = len;
      slots[used].chain.CopyToWritable(0, {reinterpret_cast<const uint8_t*>(&h), kHeaderSize});
      rx.AddUsed(slots[used].chain.head(), static_cast<uint32_t>(kHeaderSize + len));
      c.tx_cnt += len;
      left -= len;
    }
    rx.UndoPop(static_cast<uint16_t>(slots.size() - used));
    c.fwd_cnt_told = c.fwd_cnt;
    return true;
  }
  rx.UndoPop(static_cast<uint16_t>(slots.size()));
  c.readable = false;
  if (n == 0) {
    c.host_eof = true;  // the host will send no more
    QueueControl(c, vsock::kOpShutdown, vsock::kShutdownSend);
    UpdateWatch(c);
  } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
    UpdateWatch(c);
  } else {
    const Key key{c.local_port, c.peer_port};
    QueueRst(key.first, key.second);
    Close(key);
  }
  return false;
}

// ---------------------------------------------------------------- host sockets

void VirtioVsock::OnListenerReady() {
  for (;;) {
    int raw = accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (raw < 0) return;  // EAGAIN, or a transient error: the next event retries
    io::UniqueFd fd(raw);
    if (pending_.size() >= kMaxPendingHostConnections) continue;  // closed: too many half-open
    loop_.Add(raw, EPOLLIN | EPOLLRDHUP, [this, raw](uint32_t) { Guarded([this, raw] { OnPendingReady(raw); }); });
    pending_[raw] = std::move(fd);
  }
}

void VirtioVsock::OnPendingReady(int fd) {
  auto it = pending_.find(fd);
  if (it == pending_.end()) return;
  auto drop = [&] {
    loop_.Remove(fd);
    pending_.erase(it);
  };
  char buf[kMaxConnectLine + 1];
  ssize_t n = recv(fd, buf, kMaxConnectLine, MSG_PEEK);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) return drop();
  const char* nl = static_cast<const char*>(std::memchr(buf, '\n', static_cast<size_t>(n)));
  if (nl == nullptr) {
    if (static_cast<size_t>(n) >= kMaxConnectLine) drop();  // no command line this long
    return;
  }
  const size_t line_len = static_cast<size_t>(nl - buf);
  std::string_view line(buf, line_len);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  recv(fd, buf, line_len + 1, 0);  // consume exactly the line
  constexpr std::string_view kConnect = "CONNECT ";
  uint32_t port = 0;
  if (!line.starts_with(kConnect)) return drop();
  auto digits = line.substr(kConnect.size());
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) return drop();
  if (connections_.size() >= max_connections_) return drop();

  io::UniqueFd owned = std::move(it->second);
  drop();
  auto c = std::make_unique<Connection>();
  c->fd = std::move(owned);
  c->peer_port = port;
  c->local_port = AllocateHostPort(port);
  c->host_initiated = true;
  c->state = State::kConnecting;
  Connection& ref = *c;
  connections_[{ref.local_port, ref.peer_port}] = std::move(c);
  QueueControl(ref, vsock::kOpRequest);
  UpdateWatch(ref);
  PumpRx();
}

uint32_t VirtioVsock::AllocateHostPort(uint32_t peer_port) {
  for (;;) {
    const uint32_t port = next_host_port_++;
    if (next_host_port_ < kFirstHostPort || next_host_port_ == 0xffffffffu) next_host_port_ = kFirstHostPort;
    if (connections_.find({port, peer_port}) == connections_.end()) return port;
  }
}

void VirtioVsock::OnConnectionEvent(Key key, uint32_t events) {
  auto it = connections_.find(key);
  if (it == connections_.end()) return;
  Connection& c = *it->second;
  if (events & EPOLLOUT) {
    FlushToHost(c);
    if (connections_.find(key) == connections_.end()) return;  // closed
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c.readable = true;
  UpdateWatch(c);
  PumpRx();
}

void VirtioVsock::UpdateWatch(Connection& c) {
  uint32_t want = 0;
  if (c.state == State::kEstablished && !c.readable && !c.host_eof) want |= EPOLLIN | EPOLLRDHUP;
  if (!c.to_host.empty()) want |= EPOLLOUT;
  if (want == c.watched) return;
  // An fd we wait on for nothing leaves epoll entirely: EPOLLHUP cannot be
  // masked and would spin the loop.
  if (want == 0) {
    loop_.Remove(c.fd.get());
  } else if (c.watched == 0) {
    const Key key{c.local_port, c.peer_port};
    loop_.Add(c.fd.get(), want, [this, key](uint32_t ev) { Guarded([&] { OnConnectionEvent(key, ev); }); });
  } else {
    loop_.Modify(c.fd.get(), want);
  }
  c.watched = want;
}

void VirtioVsock::Close(Key key) {
  auto it = connections_.find(key);
  if (it == connections_.end()) return;
  if (it->second->watched) loop_.Remove(it->second->fd.get());
  connections_.erase(it);
}

}  // namespace hull::vmm::virtio
