#include "ttrpc/client.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "ttrpc/connection.h"
#include "ttrpc/frame.h"
#include "ttrpc/ttrpc.pb.h"

namespace hull::ttrpc {

namespace asio = boost::asio;

namespace {
struct Outcome {
  Status status;
  std::string payload;
};
}  // namespace

struct Client::Impl : std::enable_shared_from_this<Client::Impl> {
  std::shared_ptr<spdlog::logger> log;
  std::string address;
  asio::io_context io;
  std::shared_ptr<FrameConnection> conn;
  std::thread io_thread;

  std::mutex mu;
  uint32_t next_stream_id = 1;
  std::map<uint32_t, std::promise<Outcome>> pending;
  std::optional<std::string> closed_reason;

  void OnFrame(DecodedFrame frame) {
    const uint32_t id = frame.header.stream_id;
    Outcome outcome;
    if (frame.oversized) {
      outcome.status = Status{Code::kResourceExhausted, "response of " + std::to_string(frame.header.length) +
                                                            " bytes exceeds the ttrpc maximum of " +
                                                            std::to_string(kMaxFramePayload)};
    } else if (frame.header.type != static_cast<uint8_t>(FrameType::kResponse)) {
      log->warn("ttrpc client: ignoring frame of type {} on stream {} from {}", frame.header.type, id, address);
      return;
    } else {
      wire::Response response;
      if (!response.ParseFromString(frame.payload)) {
        outcome.status = Status{Code::kInternal, "cannot decode the ttrpc Response envelope from " + address};
      } else {
        if (response.has_status()) outcome.status = Status::FromProto(response.status());
        outcome.payload = std::move(*response.mutable_payload());
      }
    }
    std::lock_guard lock(mu);
    auto it = pending.find(id);
    if (it == pending.end()) {
      // Normal after a call gave up on its deadline before the server answered.
      log->debug("ttrpc client: response for unknown stream {} from {}", id, address);
      return;
    }
    it->second.set_value(std::move(outcome));
    pending.erase(it);
  }

  void OnClose(const std::string& reason) {
    std::lock_guard lock(mu);
    closed_reason = reason.empty() ? "connection to " + address + " closed" : "connection to " + address + " failed: " + reason;
    for (auto& [id, promise] : pending) promise.set_value(Outcome{Status{Code::kUnavailable, *closed_reason}, {}});
    pending.clear();
  }
};

Client::Client(const std::string& address, std::shared_ptr<spdlog::logger> logger) : impl_(std::make_shared<Impl>()) {
  impl_->log = logger ? std::move(logger) : spdlog::default_logger();
  impl_->address = address;
  std::string path = UnixSocketPath(address);
  UnixSocket socket(impl_->io);
  boost::system::error_code ec;
  socket.connect(asio::local::stream_protocol::endpoint(path), ec);
  if (ec) throw TtrpcError(Code::kUnavailable, "cannot connect to ttrpc server at " + address + ": " + ec.message());
  impl_->conn = std::make_shared<FrameConnection>(std::move(socket));
  std::weak_ptr<Impl> weak = impl_;
  impl_->conn->Start(
      [weak](DecodedFrame frame) {
        if (auto impl = weak.lock()) impl->OnFrame(std::move(frame));
      },
      [weak](const std::string& reason) {
        if (auto impl = weak.lock()) impl->OnClose(reason);
      });
  impl_->io_thread = std::thread([impl = impl_] { impl->io.run(); });
}

Client::~Client() {
  Close();
  if (impl_->io_thread.joinable()) impl_->io_thread.join();
}

std::string Client::Call(const std::string& service, const std::string& method, const std::string& payload,
                         const CallOptions& options) {
  wire::Request request;
  request.set_service(service);
  request.set_method(method);
  request.set_payload(payload);
  if (options.timeout) request.set_timeout_nano(std::max<int64_t>(1, options.timeout->count()));
  for (const auto& [key, value] : options.metadata) {
    auto* kv = request.add_metadata();
    kv->set_key(key);
    kv->set_value(value);
  }

  std::future<Outcome> future;
  uint32_t id = 0;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->closed_reason) throw TtrpcError(Code::kUnavailable, *impl_->closed_reason);
    id = impl_->next_stream_id;
    if (id > UINT32_MAX - 2) throw TtrpcError(Code::kResourceExhausted, "ttrpc stream ids exhausted on this connection; reconnect");
    impl_->next_stream_id += 2;
    // Encode before registering: an oversized request throws here.
    std::string frame = EncodeFrame(id, FrameType::kRequest, 0, request.SerializeAsString());
    future = impl_->pending[id].get_future();
    impl_->conn->Send(std::move(frame));
  }

  if (options.timeout && future.wait_for(*options.timeout) != std::future_status::ready) {
    std::lock_guard lock(impl_->mu);
    if (impl_->pending.erase(id) == 1) {
      throw TtrpcError(Code::kDeadlineExceeded, service + "/" + method + " got no response within " +
                                                    std::to_string(options.timeout->count()) + " ns");
    }
  }
  Outcome outcome = future.get();
  if (!outcome.status.ok()) throw TtrpcError(std::move(outcome.status));
  return std::move(outcome.payload);
}

void Client::Close() {
  // Closing the socket ends the pending read, and with it the I/O loop.
  if (impl_->conn) impl_->conn->Close();
  if (impl_->io_thread.joinable() && impl_->io_thread.get_id() != std::this_thread::get_id()) impl_->io_thread.join();
  // The close handler may not have run if the loop stopped first.
  std::lock_guard lock(impl_->mu);
  if (!impl_->closed_reason) {
    impl_->closed_reason = "ttrpc client for " + impl_->address + " was closed";
    for (auto& [id, promise] : impl_->pending) {
      promise.set_value(Outcome{Status{Code::kUnavailable, *impl_->closed_reason}, {}});
    }
    impl_->pending.clear();
  }
}

bool Client::Connected() const {
  std::lock_guard lock(impl_->mu);
  return !impl_->closed_reason;
}

}  // namespace hull::ttrpc
