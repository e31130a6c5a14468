// ttrpc client over one unix-socket connection. Calls may be made from any
// number of threads at once; each gets its own odd stream id and they are
// multiplexed on the connection. A call blocks until its response, its
// deadline (sent to the server as timeout_nano and enforced here too) or the
// connection's end; failures throw TtrpcError with the gRPC status.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ttrpc/status.h"

namespace spdlog {
class logger;
}

namespace hull::ttrpc {

struct CallOptions {
  std::optional<std::chrono::nanoseconds> timeout;
  std::vector<std::pair<std::string, std::string>> metadata;
};

class Client {
 public:
  // Connects to "unix:///path" or "/path"; throws TtrpcError(Unavailable) when
  // nothing listens there.
  explicit Client(const std::string& address, std::shared_ptr<spdlog::logger> logger = nullptr);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  std::string Call(const std::string& service, const std::string& method, const std::string& payload,
                   const CallOptions& options = {});

  template <typename Response, typename Request>
  Response Call(const std::string& service, const std::string& method, const Request& request,
                const CallOptions& options = {}) {
    std::string reply = Call(service, method, request.SerializeAsString(), options);
    Response response;
    if (!response.ParseFromString(reply)) {
      throw TtrpcError(Code::kInternal, "cannot decode " + response.GetTypeName() + " returned by " + service + "/" + method);
    }
    return response;
  }

  // Fails calls still waiting with Unavailable and closes the connection.
  void Close();
  // False once the server hung up or Close was called.
  bool Connected() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hull::ttrpc
