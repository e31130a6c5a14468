// Publishes task events by running `<publish-binary> --address A publish
// --topic T --namespace N` with the event (a protobuf Any) on stdin: the path
// containerd offers shims through -publish-binary when no TTRPC_ADDRESS is set.
#pragma once

#include <string>

#include "task/queued_publisher.h"

namespace hull::task {

class BinaryEventPublisher final : public QueuedPublisher {
 public:
  BinaryEventPublisher(std::string publish_binary, std::string containerd_address, std::string ns,
                       std::shared_ptr<spdlog::logger> logger = nullptr,
                       std::chrono::milliseconds retry_pause = std::chrono::seconds(1));
  ~BinaryEventPublisher() override;

 private:
  void Deliver(const events_v1::Envelope& envelope) override;

  std::string binary_;
  std::string address_;
};

}  // namespace hull::task
