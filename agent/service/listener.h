// Where the agent listens: "vsock:PORT" (guest) or "unix:PATH" (host tests).
// Connections are accepted here and handed to the gRPC server as fds
// (grpc::AddInsecureChannelFromFd), the same path for both transports.
#pragma once

#include <grpcpp/server.h>

#include <atomic>
#include <string>

#include "runtime/unique_fd.h"

namespace hull::service {

struct ListenAddress {
  enum class Kind { vsock, unix_socket } kind = Kind::vsock;
  unsigned port = 1024;
  std::string path;
};

// Throws std::invalid_argument with a message that shows the accepted forms.
ListenAddress parse_listen_address(const std::string& text);
// A listening socket; throws std::runtime_error naming the address.
runtime::UniqueFd listen_on(const ListenAddress& address);
// Accepts until `stop` is set (noticed within 200 ms).
void accept_loop(grpc::Server& server, int listen_fd, const std::atomic<bool>& stop);

}  // namespace hull::service
