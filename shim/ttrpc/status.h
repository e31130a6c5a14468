// gRPC status codes and the one error type of the ttrpc library. ttrpc carries
// failures as google.rpc.Status inside the Response envelope; a code that came
// from the peer is validated before it becomes a Code.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace google::rpc {
class Status;
}

namespace hull::ttrpc {

enum class Code : int32_t {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// "InvalidArgument", "Unimplemented", ... as gRPC spells them.
std::string_view CodeName(Code code);

struct Status {
  Code code = Code::kOk;
  std::string message;

  bool ok() const { return code == Code::kOk; }
  // "Unimplemented: method Frobnicate"
  std::string ToString() const;

  void ToProto(google::rpc::Status* out) const;
  // Codes outside 0..16 (a misbehaving peer) become kUnknown, keeping the number
  // in the message.
  static Status FromProto(const google::rpc::Status& in);
};

// Thrown by the client for a failed call and by method handlers to answer with
// a non-OK status; what() is Status::ToString().
class TtrpcError : public std::runtime_error {
 public:
  explicit TtrpcError(Status status);
  TtrpcError(Code code, std::string message) : TtrpcError(Status{code, std::move(message)}) {}
  const Status& status() const { return status_; }
  Code code() const { return status_.code; }

 private:
  Status status_;
};

}  // namespace hull::ttrpc
