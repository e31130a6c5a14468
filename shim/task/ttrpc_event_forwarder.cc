#include "task/ttrpc_event_forwarder.h"

#include "google/protobuf/empty.pb.h"

namespace hull::task {

TtrpcEventForwarder::TtrpcEventForwarder(std::string ttrpc_address, std::string ns,
                                         std::shared_ptr<spdlog::logger> logger, std::chrono::milliseconds retry_pause)
    : QueuedPublisher(std::move(ns), std::move(logger), retry_pause), address_(std::move(ttrpc_address)) {}

TtrpcEventForwarder::~TtrpcEventForwarder() { Stop(); }

void TtrpcEventForwarder::Deliver(const events_v1::Envelope& envelope) {
  if (!client_ || !client_->Connected()) client_ = std::make_unique<ttrpc::Client>(address_, log_);
  events_v1::ForwardRequest request;
  *request.mutable_envelope() = envelope;
  ttrpc::CallOptions options;
  options.timeout = std::chrono::seconds(5);
  try {
    client_->Call<google::protobuf::Empty>("containerd.services.events.ttrpc.v1.Events", "Forward", request, options);
  } catch (...) {
    client_.reset();
    throw;
  }
}

}  // namespace hull::task
