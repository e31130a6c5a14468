// virtio-vsock (virtio 1.x, 5.10) with the host side in user space, as
// Firecracker's "hybrid" vsock: the VMM listens on a unix socket `uds_path`.
//  - host -> guest: a host program connects to `uds_path`, writes
//    "CONNECT <port>\n" and reads "OK <host_port>\n"; from then on the
//    stream is the guest's port <port>.
//  - guest -> host: a guest connect() to CID 2 port P is forwarded to the
//    unix socket "<uds_path>_P" (refused with RST when nobody listens).
// Streams only; credit-based flow control both ways (never more data to
// the guest than it has room for; at most kBufAlloc bytes buffered from it);
// anything unexpected resets the connection (RST), never the VMM.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "devices/virtio/vsock_packet.h"
#include "io/event_loop.h"
#include "io/unique_fd.h"
#include "virtio/virtio_device.h"

namespace hull::vmm::virtio {

inline constexpr uint32_t kDeviceTypeVsock = 19;

struct VsockOptions {
  uint64_t guest_cid = 3;
  std::string uds_path;
};

// How many connections a VM may hold at once when the process may open
// `open_file_limit` files (RLIMIT_NOFILE): half of them, at most 1024, so a
// guest cannot take the fds the API, disks and event loop need.
size_t VsockConnectionLimit(uint64_t open_file_limit);

class VirtioVsock : public VirtioDevice {
 public:
  static constexpr uint16_t kQueueSize = 256;
  static constexpr uint32_t kBufAlloc = 256 * 1024;       // our receive window per connection
  static constexpr uint32_t kMaxPacketData = 64 * 1024;   // per rx packet
  static constexpr size_t kRxBatch = 16;                   // rx buffers filled per readv()
  static constexpr uint32_t kFirstHostPort = 1u << 30;    // ports for host-initiated streams

  // Listens on options.uds_path; throws DeviceError (bad CID, path in use).
  VirtioVsock(const VsockOptions& options, io::EventLoop& loop);
  ~VirtioVsock() override;

  uint64_t guest_cid() const { return options_.guest_cid; }
  size_t connection_count() const;
  // VsockConnectionLimit() of the RLIMIT_NOFILE in force when it was made.
  size_t max_connections() const { return max_connections_; }

 protected:
  void ProcessQueue(size_t index) override;
  void OnActivate() override;
  void OnReset() override;

 private:
  enum class State { kConnecting, kEstablished };
  struct Connection {
    io::UniqueFd fd;
    uint32_t local_port = 0;  // host side
    uint32_t peer_port = 0;   // guest side
    State state = State::kConnecting;
    bool host_initiated = false;
    bool readable = false;         // host socket has data (or EOF) we have not read yet
    bool host_eof = false;         // host stopped sending; guest told
    bool guest_shut_send = false;  // guest will send no more
    bool guest_shut_recv = false;  // guest wants no more data
    std::string to_host;           // guest data the host socket did not take yet
    uint32_t tx_cnt = 0;           // bytes sent to the guest
    uint32_t fwd_cnt = 0;          // guest bytes delivered to the host socket
    uint32_t fwd_cnt_told = 0;     // fwd_cnt last reported to the guest
    uint32_t peer_buf_alloc = 0;
    uint32_t peer_fwd_cnt = 0;
    uint32_t watched = 0;  // epoll events registered
    // Bytes the guest can still take; 0 (not a wrapped huge number) when it
    // shrank its buffer below what is in flight.
    uint32_t PeerCredit() const {
      const uint32_t in_flight = tx_cnt - peer_fwd_cnt;
      return in_flight >= peer_buf_alloc ? 0 : peer_buf_alloc - in_flight;
    }
  };
  using Key = std::pair<uint32_t, uint32_t>;  // (local_port, peer_port)

  // Guest -> host.
  void ProcessTx();
  void HandleGuestPacket(const vsock::Header& h, const DescriptorChain& chain);
  void HandleGuestRequest(const vsock::Header& h);
  void DeliverToHost(Connection& c, const DescriptorChain& chain, uint32_t len);
  // Host -> guest.
  void PumpRx();
  // One pass; true when it stopped for want of rx buffers.
  bool PumpRxUntilOutOfBuffers();
  bool FillDataPacket(Connection& c);
  void QueueControl(Connection& c, uint16_t op, uint32_t flags = 0);
  void QueueRst(uint32_t local_port, uint32_t peer_port);
  vsock::Header MakeHeader(uint32_t local_port, uint32_t peer_port, uint16_t op, uint32_t fwd_cnt) const;
  // Host sockets.
  void OnListenerReady();
  void OnPendingReady(int fd);
  void OnConnectionEvent(Key key, uint32_t events);
  void FlushToHost(Connection& c);
  void UpdateWatch(Connection& c);
  void Close(Key key);
  uint32_t AllocateHostPort(uint32_t peer_port);

  VsockOptions options_;
  io::EventLoop& loop_;
  io::UniqueFd listener_;
  bool listener_watched_ = false;
  // Host connections that have not sent their "CONNECT <port>\n" yet.
  std::map<int, io::UniqueFd> pending_;
  std::map<Key, std::unique_ptr<Connection>> connections_;
  std::deque<vsock::Header> control_;  // control packets waiting for rx buffers
  uint32_t next_host_port_ = kFirstHostPort;
  size_t max_connections_ = 0;
};

}  // namespace hull::vmm::virtio
