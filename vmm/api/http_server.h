// The API socket: HTTP/1.1 on a unix socket (Boost.Beast on Asio), one
// request at a time per connection, keep-alive. Runs on the io_context the
// caller drives; handlers run on that thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>

#include "api/router.h"

namespace hull::vmm::api {

class HttpServer {
 public:
  // Binds `socket_path`; throws ApiError(0, ...) when it exists or cannot be
  // bound. The socket file is removed again by the destructor.
  HttpServer(boost::asio::io_context& io, const std::string& socket_path, const Router& router,
             VmController& vm);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

 private:
  void Accept();

  std::string path_;
  const Router& router_;
  VmController& vm_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  // After a failed accept (EMFILE: out of fds) the socket stays readable;
  // accepting again at once would spin this thread, so wait a little.
  boost::asio::steady_timer accept_retry_;
  bool bound_ = false;
};

}  // namespace hull::vmm::api
