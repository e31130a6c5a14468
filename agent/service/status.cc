#include "service/status.h"

#include "oci/parse.h"
#include "runtime/error.h"
#include "service/sandbox.h"

namespace hull::service {
namespace {

grpc::StatusCode code_of(runtime::ErrorKind k) {
  switch (k) {
    case runtime::ErrorKind::invalid_argument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case runtime::ErrorKind::not_found:
      return grpc::StatusCode::NOT_FOUND;
    case runtime::ErrorKind::already_exists:
      return grpc::StatusCode::ALREADY_EXISTS;
    case runtime::ErrorKind::failed_precondition:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case runtime::ErrorKind::resource_exhausted:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case runtime::ErrorKind::unavailable:
      return grpc::StatusCode::UNAVAILABLE;
    case runtime::ErrorKind::internal:
      return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::INTERNAL;
}

}  // namespace

grpc::Status guarded(const std::function<void()>& body) {
  try {
    body();
    return grpc::Status::OK;
  } catch (const runtime::RuntimeError& e) {
    return grpc::Status(code_of(e.kind()), e.what());
  } catch (const oci::SpecError& e) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, e.what());
  } catch (const SandboxError& e) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, e.what());
  } catch (const std::exception& e) {
    return grpc::Status(grpc::StatusCode::INTERNAL, std::string("unexpected: ") + e.what());
  }
}

}  // namespace hull::service
