#include "ttrpc/status.h"

#include <array>

#include "google/rpc/status.pb.h"

namespace hull::ttrpc {

namespace {
constexpr std::array<std::string_view, 17> kCodeNames = {
    "OK",           "Canceled",          "Unknown",           "InvalidArgument",
    "DeadlineExceeded", "NotFound",      "AlreadyExists",     "PermissionDenied",
    "ResourceExhausted", "FailedPrecondition", "Aborted",     "OutOfRange",
    "Unimplemented", "Internal",         "Unavailable",       "DataLoss",
    "Unauthenticated"};
}  // namespace

std::string_view CodeName(Code code) {
  auto index = static_cast<size_t>(code);
  return index < kCodeNames.size() ? kCodeNames[index] : std::string_view("Unknown");
}

std::string Status::ToString() const {
  std::string out(CodeName(code));
  if (!message.empty()) {
    out += ": ";
    out += message;
  }
  return out;
}

void Status::ToProto(google::rpc::Status* out) const {
  out->set_code(static_cast<int32_t>(code));
  out->set_message(message);
}

Status Status::FromProto(const google::rpc::Status& in) {
  int32_t raw = in.code();
  if (raw < 0 || raw >= static_cast<int32_t>(kCodeNames.size())) {
    return Status{Code::kUnknown, "peer sent status code " + std::to_string(raw) + ": " + in.message()};
  }
  return Status{static_cast<Code>(raw), in.message()};
}

TtrpcError::TtrpcError(Status status) : std::runtime_error(status.ToString()), status_(std::move(status)) {}

}  // namespace hull::ttrpc
