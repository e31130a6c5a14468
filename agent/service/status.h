// RuntimeError / SandboxError -> grpc::Status with the same message.
#pragma once

#include <grpcpp/support/status.h>

#include <functional>

namespace hull::service {

// Runs `body`, turning the errors of the layers below into a gRPC status.
grpc::Status guarded(const std::function<void()>& body);

}  // namespace hull::service
