// ttrpc server: services registered by name with method handlers, served on
// unix sockets. One I/O thread reads and writes frames; every request runs on
// its own thread so a handler may block (Task.Wait blocks until a process
// exits) without stalling other streams. The request's timeout_nano becomes a
// deadline: when it passes the caller gets DeadlineExceeded and the handler's
// CallContext reports cancelled. Handlers answer with a non-OK status by
// throwing TtrpcError; any other exception becomes Unknown.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "google/protobuf/message_lite.h"
#include "ttrpc/status.h"

namespace spdlog {
class logger;
}

namespace hull::ttrpc {

class CallContext {
 public:
  using Clock = std::chrono::steady_clock;

  std::string service;
  std::string method;
  std::multimap<std::string, std::string> metadata;
  // Clock::time_point::max() when the caller set no timeout.
  Clock::time_point deadline = Clock::time_point::max();

  // True once the deadline passed, the caller hung up or the server shuts down.
  bool Cancelled() const;
  // Blocks up to `timeout` or until cancelled; returns Cancelled().
  bool WaitCancelled(std::chrono::nanoseconds timeout) const;

  struct CancelState;
  std::shared_ptr<CancelState> cancel_state;
};

using MethodHandler = std::function<std::string(const CallContext&, const std::string& payload)>;

class Server {
 public:
  // `logger` defaults to spdlog's default logger.
  explicit Server(std::shared_ptr<spdlog::logger> logger = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Throws TtrpcError(AlreadyExists) for a duplicate service/method. Register
  // everything before Start.
  void Register(const std::string& service, const std::string& method, MethodHandler handler);

  template <typename Request, typename Response>
  void RegisterUnary(const std::string& service, const std::string& method,
                     std::function<Response(const CallContext&, const Request&)> handler) {
    Register(service, method, [handler = std::move(handler)](const CallContext& ctx, const std::string& payload) {
      Request request;
      if (!request.ParseFromString(payload)) {
        throw TtrpcError(Code::kInvalidArgument, "cannot decode " + request.GetTypeName() + " for " +
                                                     ctx.service + "/" + ctx.method);
      }
      return handler(ctx, request).SerializeAsString();
    });
  }

  // Binds and listens on a unix socket path (or "unix://" address). Fails if
  // the path exists: remove stale sockets first.
  void Listen(const std::string& address);
  // Serves on an already listening socket, e.g. fd 3 inherited from `shim start`.
  void AdoptListener(int fd);
  // Starts the I/O thread. Call once.
  void Start();
  // Stops accepting, cancels running calls, waits for their handlers to return
  // (handlers must honour CallContext::Cancelled), flushes replies and closes
  // every connection. Idempotent; must not be called from a handler.
  void Shutdown();

  // Number of calls whose handler is still running (for tests and shutdown).
  size_t ActiveCalls() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hull::ttrpc
