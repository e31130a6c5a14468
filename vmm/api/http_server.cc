#include "api/http_server.h"

#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/api_error.h"

namespace hull::vmm::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Socket = asio::local::stream_protocol::socket;

constexpr size_t kMaxBody = 1 << 20;
constexpr std::chrono::milliseconds kAcceptRetry{50};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Socket socket, const Router& router, VmController& vm)
      : socket_(std::move(socket)), router_(router), vm_(vm) {}

  void Read() {
    parser_.emplace();
    parser_->body_limit(kMaxBody);
    http::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset)
      return;
    ApiResponse result;
    bool keep_alive = false;
    if (ec) {
      result = Fault(400, "malformed HTTP request: " + ec.message());
    } else {
      auto& request = parser_->get();
      std::string target(request.target());
      ApiRequest api{std::string(request.method_string()),
                     target.substr(0, target.find('?')),
                     request.body(),
                     {}};
      result = router_.Dispatch(std::move(api), vm_);
      keep_alive = request.keep_alive();
    }
    response_ = {};
    response_.version(11);
    response_.result(static_cast<http::status>(result.status));
    response_.set(http::field::server, "hull-vmm");
    if (result.body) {
      response_.set(http::field::content_type, "application/json");
      // Fault messages quote the request path, which may hold any bytes:
      // replace invalid UTF-8 instead of throwing out of the I/O loop.
      response_.body() = result.body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    http::async_write(socket_, response_,
                      [self = shared_from_this(), keep_alive](beast::error_code wec, size_t) {
                        if (!wec && keep_alive) self->Read();
                      });
  }

  Socket socket_;
  const Router& router_;
  VmController& vm_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
};

}  // namespace

HttpServer::HttpServer(asio::io_context& io, const std::string& socket_path, const Router& router,
                       VmController& vm)
    : path_(socket_path), router_(router), vm_(vm), acceptor_(io), accept_retry_(io) {
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    throw ApiError(
        0, "API socket path " + path_ +
               " already exists (another hull-vmm may be using it; remove it if it is stale)");
  }
  // Asio's endpoint throws a bare "File name too long" for a path that does
  // not fit sockaddr_un: say which path and what the limit is instead.
  if (path_.size() >= sizeof(sockaddr_un::sun_path)) {
    throw ApiError(0, "API socket path is " + std::to_string(path_.size()) +
                          " bytes long; a unix socket path must be under " +
                          std::to_string(sizeof(sockaddr_un::sun_path)) +
                          ": pick a shorter --api-sock");
  }
  boost::system::error_code ec;
  asio::local::stream_protocol::endpoint endpoint(path_);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (ec) throw ApiError(0, "cannot bind the API socket " + path_ + ": " + ec.message());
  bound_ = true;
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    ::unlink(path_.c_str());
    throw ApiError(0, "cannot listen on the API socket " + path_ + ": " + ec.message());
  }
  Accept();
}

HttpServer::~HttpServer() {
  boost::system::error_code ec;
  acceptor_.close(ec);
  if (bound_) ::unlink(path_.c_str());
}

void HttpServer::Accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, Socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      accept_retry_.expires_after(kAcceptRetry);
      accept_retry_.async_wait([this](boost::system::error_code wait_ec) {
        if (!wait_ec) Accept();
      });
      return;
    }
    std::make_shared<Session>(std::move(socket), router_, vm_)->Read();
    Accept();
  });
}

}  // namespace hull::vmm::api
