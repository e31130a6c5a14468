#include "ttrpc/connection.h"

#include <sys/un.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "ttrpc/status.h"

namespace hull::ttrpc {

namespace asio = boost::asio;

void FrameConnection::Start(FrameHandler on_frame, CloseHandler on_close) {
  on_frame_ = std::move(on_frame);
  on_close_ = std::move(on_close);
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->ReadMore(); });
}

void FrameConnection::ReadMore() {
  if (closed_) return;
  socket_.async_read_some(
      asio::buffer(read_buffer_), [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
        if (self->closed_) return;
        if (ec) {
          if (ec == asio::error::eof) {
            self->Shut(self->decoder_.AtFrameBoundary() ? std::string() : self->decoder_.DescribePartial());
          } else {
            self->Shut("read failed: " + ec.message());
          }
          return;
        }
        std::vector<DecodedFrame> frames;
        self->decoder_.Feed(std::span<const uint8_t>(self->read_buffer_.data(), n), frames);
        for (auto& frame : frames) {
          if (self->closed_) return;
          self->on_frame_(std::move(frame));
        }
        self->ReadMore();
      });
}

void FrameConnection::Send(std::string frame) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), frame = std::move(frame)]() mutable {
    if (self->closed_) return;
    self->write_queue_.push_back(std::move(frame));
    if (!self->writing_) self->WriteNext();
  });
}

void FrameConnection::WriteNext() {
  if (write_queue_.empty()) {
    writing_ = false;
    if (close_after_flush_) Shut({});
    return;
  }
  writing_ = true;
  asio::async_write(socket_, asio::buffer(write_queue_.front()),
                    [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                      if (self->closed_) return;
                      if (ec) {
                        self->Shut("write failed: " + ec.message());
                        return;
                      }
                      self->write_queue_.pop_front();
                      self->WriteNext();
                    });
}

void FrameConnection::Close() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->Shut({}); });
}

void FrameConnection::CloseAfterFlush() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->close_after_flush_ = true;
    if (!self->writing_) self->Shut({});
  });
}

void FrameConnection::Shut(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  write_queue_.clear();
  boost::system::error_code ignored;
  socket_.shutdown(UnixSocket::shutdown_both, ignored);
  socket_.close(ignored);
  if (on_close_) {
    // Move out first: the handler may drop the last owner of this connection.
    auto on_close = std::move(on_close_);
    on_close(reason);
  }
}

std::string UnixSocketPath(const std::string& address) {
  std::string path = address;
  constexpr std::string_view kScheme = "unix://";
  if (path.starts_with(kScheme)) {
    path.erase(0, kScheme.size());
  } else if (auto colon = path.find("://"); colon != std::string::npos) {
    throw TtrpcError(Code::kInvalidArgument, "address '" + address +
                                                 "' uses an unsupported scheme; ttrpc needs a unix socket "
                                                 "(unix:///path or /path)");
  }
  if (!path.empty() && path[0] == '@') path[0] = '\0';
  if (path.empty()) throw TtrpcError(Code::kInvalidArgument, "empty ttrpc socket address");
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    throw TtrpcError(Code::kInvalidArgument, "socket path '" + path + "' is " + std::to_string(path.size()) +
                                                 " bytes; unix sockets allow at most " +
                                                 std::to_string(sizeof(sockaddr_un{}.sun_path) - 1));
  }
  return path;
}

}  // namespace hull::ttrpc
