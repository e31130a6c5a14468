// One ttrpc byte stream (a connected unix socket) seen as frames: reads are
// decoded with FrameDecoder, writes are queued whole and sent in order. All
// state lives on the socket's executor; Send and Close may be called from any
// thread. Used by both Server and Client.
#pragma once

#include <array>
#include <boost/asio/local/stream_protocol.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "ttrpc/frame.h"

namespace hull::ttrpc {

using UnixSocket = boost::asio::local::stream_protocol::socket;

class FrameConnection : public std::enable_shared_from_this<FrameConnection> {
 public:
  using FrameHandler = std::function<void(DecodedFrame)>;
  // `reason` is empty for a clean hang-up at a frame boundary, otherwise it says
  // what went wrong (a truncated frame, a socket error).
  using CloseHandler = std::function<void(const std::string& reason)>;

  explicit FrameConnection(UnixSocket socket) : socket_(std::move(socket)) {}
  FrameConnection(const FrameConnection&) = delete;
  FrameConnection& operator=(const FrameConnection&) = delete;

  // Begins the read loop; the handlers run on the socket's executor.
  void Start(FrameHandler on_frame, CloseHandler on_close);
  void Send(std::string frame);
  // Stops reading and writing now; queued frames are dropped.
  void Close();
  // Closes once every frame queued so far has been written.
  void CloseAfterFlush();

 private:
  void ReadMore();
  void WriteNext();
  void Shut(const std::string& reason);

  UnixSocket socket_;
  FrameDecoder decoder_;
  std::array<uint8_t, 64 * 1024> read_buffer_{};
  std::deque<std::string> write_queue_;
  bool writing_ = false;
  bool closed_ = false;
  bool close_after_flush_ = false;
  FrameHandler on_frame_;
  CloseHandler on_close_;
};

// "unix:///run/x.sock" or "/run/x.sock" -> "/run/x.sock"; a leading '@' or
// "\0" selects the abstract namespace. Throws TtrpcError(InvalidArgument) for
// other schemes and paths too long for sockaddr_un.
std::string UnixSocketPath(const std::string& address);

}  // namespace hull::ttrpc
