#include "ttrpc/server.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "ttrpc/connection.h"
#include "ttrpc/frame.h"
#include "ttrpc/handler_threads.h"
#include "ttrpc/ttrpc.pb.h"

namespace hull::ttrpc {

namespace asio = boost::asio;
using Acceptor = asio::local::stream_protocol::acceptor;

struct CallContext::CancelState {
  std::mutex mu;
  std::condition_variable cv;
  bool cancelled = false;

  void Cancel() {
    {
      std::lock_guard lock(mu);
      cancelled = true;
    }
    cv.notify_all();
  }
};

bool CallContext::Cancelled() const {
  if (!cancel_state) return false;
  std::lock_guard lock(cancel_state->mu);
  return cancel_state->cancelled;
}

bool CallContext::WaitCancelled(std::chrono::nanoseconds timeout) const {
  if (!cancel_state) {
    std::this_thread::sleep_for(timeout);
    return false;
  }
  std::unique_lock lock(cancel_state->mu);
  return cancel_state->cv.wait_for(lock, timeout, [&] { return cancel_state->cancelled; });
}

namespace {

std::string ResponseFrame(uint32_t stream_id, const Status& status, const std::string& payload) {
  wire::Response response;
  status.ToProto(response.mutable_status());
  if (status.ok()) response.set_payload(payload);
  return EncodeFrame(stream_id, FrameType::kResponse, 0, response.SerializeAsString());
}

// One request in flight. Answered exactly once: by its handler, or earlier by
// the deadline timer.
struct Call {
  uint32_t stream_id = 0;
  std::shared_ptr<FrameConnection> conn;
  CallContext context;
  std::atomic<bool> answered{false};
  std::optional<asio::steady_timer> deadline_timer;

  bool Answer(const Status& status, const std::string& payload) {
    if (answered.exchange(true)) return false;
    conn->Send(ResponseFrame(stream_id, status, payload));
    return true;
  }
};

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  struct Session {
    std::shared_ptr<FrameConnection> conn;
    std::map<uint32_t, std::shared_ptr<Call>> calls;  // I/O thread only
  };

  std::shared_ptr<spdlog::logger> log;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::unique_ptr<Acceptor>> acceptors;
  std::vector<std::string> socket_files;
  std::map<std::string, std::map<std::string, MethodHandler>> services;
  std::set<std::shared_ptr<Session>> sessions;  // I/O thread only
  std::optional<asio::steady_timer> drain_timer;
  bool shutting_down = false;  // I/O thread only
  std::thread io_thread;
  bool started = false;
  bool stopped = false;

  // Reset by Shutdown (from the owner's thread) once no handler runs.
  std::unique_ptr<HandlerThreads> handler_threads = std::make_unique<HandlerThreads>();

  mutable std::mutex calls_mu;
  std::condition_variable calls_cv;
  size_t active_calls = 0;

  void Accept(Acceptor& acceptor) {
    acceptor.async_accept([self = shared_from_this(), &acceptor](const boost::system::error_code& ec,
                                                                 UnixSocket socket) {
      if (ec) {
        if (ec != asio::error::operation_aborted) self->log->error("ttrpc: accept failed: {}", ec.message());
        return;
      }
      self->StartSession(std::move(socket));
      self->Accept(acceptor);
    });
  }

  void StartSession(UnixSocket socket) {
    auto session = std::make_shared<Session>();
    session->conn = std::make_shared<FrameConnection>(std::move(socket));
    sessions.insert(session);
    std::weak_ptr<Session> weak = session;
    auto self = shared_from_this();
    session->conn->Start(
        [self, weak](DecodedFrame frame) {
          if (auto s = weak.lock()) self->OnFrame(s, std::move(frame));
        },
        [self, weak](const std::string& reason) {
          auto s = weak.lock();
          if (!s) return;
          if (!reason.empty()) self->log->warn("ttrpc: connection closed: {}", reason);
          for (auto& [id, call] : s->calls) call->context.cancel_state->Cancel();
          self->sessions.erase(s);
          if (self->shutting_down && self->sessions.empty() && self->drain_timer) self->drain_timer->cancel();
        });
  }

  void Reject(Session& session, uint32_t stream_id, Code code, std::string message) {
    log->warn("ttrpc: stream {}: {}", stream_id, message);
    session.conn->Send(ResponseFrame(stream_id, Status{code, std::move(message)}, {}));
  }

  void OnFrame(const std::shared_ptr<Session>& session_ptr, DecodedFrame frame) {
    Session& session = *session_ptr;
    const uint32_t id = frame.header.stream_id;
    if (frame.oversized) {
      return Reject(session, id, Code::kResourceExhausted,
                    "message length " + std::to_string(frame.header.length) + " exceeds maximum message size of " +
                        std::to_string(kMaxFramePayload));
    }
    if (frame.header.type != static_cast<uint8_t>(FrameType::kRequest)) {
      // As Go ttrpc: only requests start work; this server has no streaming methods.
      log->warn("ttrpc: ignoring frame of type {} on stream {}", frame.header.type, id);
      return;
    }
    wire::Request request;
    if (!request.ParseFromString(frame.payload)) {
      return Reject(session, id, Code::kInvalidArgument, "cannot decode the ttrpc Request envelope");
    }
    if (id % 2 != 1) {
      return Reject(session, id, Code::kInvalidArgument, "stream id must be odd for client initiated streams");
    }
    if (session.calls.contains(id)) {
      return Reject(session, id, Code::kInvalidArgument, "stream id is already in use by a running call");
    }
    if (shutting_down) {
      return Reject(session, id, Code::kUnavailable, "ttrpc server is shutting down");
    }
    auto service = services.find(request.service());
    if (service == services.end()) {
      return Reject(session, id, Code::kUnimplemented, "service " + request.service());
    }
    auto method = service->second.find(request.method());
    if (method == service->second.end()) {
      return Reject(session, id, Code::kUnimplemented, "method " + request.method());
    }

    auto call = std::make_shared<Call>();
    call->stream_id = id;
    call->conn = session.conn;
    call->context.service = request.service();
    call->context.method = request.method();
    call->context.cancel_state = std::make_shared<CallContext::CancelState>();
    for (const auto& kv : request.metadata()) call->context.metadata.emplace(kv.key(), kv.value());
    const auto now = CallContext::Clock::now();
    // As Go ttrpc: only a positive timeout sets a deadline, and one beyond the
    // clock's range is none (now + timeout would overflow).
    if (request.timeout_nano() > 0 &&
        std::chrono::nanoseconds(request.timeout_nano()) < CallContext::Clock::time_point::max() - now) {
      auto timeout = std::chrono::nanoseconds(request.timeout_nano());
      call->context.deadline = now + timeout;
      call->deadline_timer.emplace(io, call->context.deadline);
      std::weak_ptr<Call> weak = call;
      call->deadline_timer->async_wait([weak, timeout](const boost::system::error_code& ec) {
        auto c = weak.lock();
        if (ec || !c) return;
        // Answer before cancelling: a cancelled handler answers Cancelled at
        // once, and the first answer is the one the caller gets.
        c->Answer(Status{Code::kDeadlineExceeded, c->context.service + "/" + c->context.method + " ran past its " +
                                                      std::to_string(timeout.count()) + " ns deadline"},
                  {});
        c->context.cancel_state->Cancel();
      });
    }
    session.calls.emplace(id, call);
    {
      std::lock_guard lock(calls_mu);
      ++active_calls;
    }
    std::weak_ptr<Session> weak_session = session_ptr;
    // Raw `this`: Shutdown joins these threads before the Server lets go of Impl.
    handler_threads->Run([this, call, handler = method->second, payload = std::move(*request.mutable_payload()),
                          weak_session]() mutable { RunCall(call, handler, std::move(payload), weak_session); });
  }

  void RunCall(std::shared_ptr<Call> call, const MethodHandler& handler, std::string payload,
               std::weak_ptr<Session> session) {
    Status status;
    std::string out;
    try {
      out = handler(call->context, payload);
      if (out.size() > kMaxFramePayload) {
        status = Status{Code::kResourceExhausted, "response of " + std::to_string(out.size()) +
                                                      " bytes exceeds the ttrpc maximum of " +
                                                      std::to_string(kMaxFramePayload)};
      }
    } catch (const TtrpcError& e) {
      status = e.status();
    } catch (const std::exception& e) {
      status = Status{Code::kUnknown, e.what()};
    }
    call->Answer(status, out);
    asio::post(io, [call, session] {
      if (call->deadline_timer) call->deadline_timer->cancel();
      if (auto s = session.lock()) {
        auto it = s->calls.find(call->stream_id);
        if (it != s->calls.end() && it->second == call) s->calls.erase(it);
      }
    });
    std::lock_guard lock(calls_mu);
    --active_calls;
    calls_cv.notify_all();
  }
};

Server::Server(std::shared_ptr<spdlog::logger> logger) : impl_(std::make_shared<Impl>()) {
  impl_->log = logger ? std::move(logger) : spdlog::default_logger();
  impl_->work.emplace(impl_->io.get_executor());
}

Server::~Server() { Shutdown(); }

void Server::Register(const std::string& service, const std::string& method, MethodHandler handler) {
  if (impl_->started) throw TtrpcError(Code::kFailedPrecondition, "register ttrpc methods before Server::Start");
  auto [it, inserted] = impl_->services[service].emplace(method, std::move(handler));
  if (!inserted) throw TtrpcError(Code::kAlreadyExists, "ttrpc method " + service + "/" + method + " registered twice");
}

void Server::Listen(const std::string& address) {
  std::string path = UnixSocketPath(address);
  bool abstract = path[0] == '\0';
  std::error_code fs_error;
  if (!abstract && std::filesystem::exists(std::filesystem::symlink_status(path, fs_error))) {
    throw TtrpcError(Code::kAlreadyExists,
                     "socket path " + path + " already exists; remove it if no server is using it");
  }
  auto acceptor = std::make_unique<Acceptor>(impl_->io);
  boost::system::error_code ec;
  asio::local::stream_protocol::endpoint endpoint(path);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw TtrpcError(Code::kUnavailable, "cannot listen on " + path + ": " + ec.message());
  if (!abstract) impl_->socket_files.push_back(path);
  impl_->acceptors.push_back(std::move(acceptor));
}

void Server::AdoptListener(int fd) {
  auto acceptor = std::make_unique<Acceptor>(impl_->io);
  boost::system::error_code ec;
  acceptor->assign(asio::local::stream_protocol(), fd, ec);
  if (ec) throw TtrpcError(Code::kInvalidArgument, "fd " + std::to_string(fd) + " is not a usable listening socket: " + ec.message());
  impl_->acceptors.push_back(std::move(acceptor));
}

void Server::Start() {
  if (impl_->started) throw TtrpcError(Code::kFailedPrecondition, "ttrpc server started twice");
  if (impl_->acceptors.empty()) throw TtrpcError(Code::kFailedPrecondition, "ttrpc server has no socket: call Listen or AdoptListener first");
  impl_->started = true;
  for (auto& acceptor : impl_->acceptors) impl_->Accept(*acceptor);
  impl_->io_thread = std::thread([impl = impl_] { impl->io.run(); });
}

void Server::Shutdown() {
  auto& impl = *impl_;
  if (impl.stopped) return;
  impl.stopped = true;
  if (!impl.started) {
    impl.acceptors.clear();
  } else {
    asio::post(impl.io, [&impl] {
      impl.shutting_down = true;
      for (auto& acceptor : impl.acceptors) {
        boost::system::error_code ignored;
        acceptor->close(ignored);
      }
      for (auto& session : impl.sessions) {
        for (auto& [id, call] : session->calls) call->context.cancel_state->Cancel();
      }
    });
    {
      std::unique_lock lock(impl.calls_mu);
      impl.calls_cv.wait(lock, [&] { return impl.active_calls == 0; });
    }
    // Replies are queued; let them reach the peers, but not forever.
    asio::post(impl.io, [&impl] {
      if (impl.sessions.empty()) return;
      impl.drain_timer.emplace(impl.io, std::chrono::seconds(2));
      impl.drain_timer->async_wait([&impl](const boost::system::error_code& ec) {
        if (!ec) impl.io.stop();
      });
      for (auto& session : impl.sessions) session->conn->CloseAfterFlush();
    });
  }
  impl.work.reset();
  if (impl.io_thread.joinable()) impl.io_thread.join();
  impl.handler_threads.reset();
  impl.acceptors.clear();
  for (const auto& path : impl.socket_files) ::unlink(path.c_str());
  impl.socket_files.clear();
}

size_t Server::ActiveCalls() const {
  std::lock_guard lock(impl_->calls_mu);
  return impl_->active_calls;
}

}  // namespace hull::ttrpc
