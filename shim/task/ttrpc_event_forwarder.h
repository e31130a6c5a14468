// Publishes task events to containerd's ttrpc event service
// (containerd.services.events.ttrpc.v1.Events/Forward) at TTRPC_ADDRESS, the
// way containerd 1.6 expects from a v2 shim. Connects lazily and reconnects
// after a failure.
#pragma once

#include <memory>
#include <string>

#include "task/queued_publisher.h"
#include "ttrpc/client.h"

namespace hull::task {

class TtrpcEventForwarder final : public QueuedPublisher {
 public:
  TtrpcEventForwarder(std::string ttrpc_address, std::string ns, std::shared_ptr<spdlog::logger> logger = nullptr,
                      std::chrono::milliseconds retry_pause = std::chrono::seconds(1));
  ~TtrpcEventForwarder() override;

 private:
  void Deliver(const events_v1::Envelope& envelope) override;

  std::string address_;
  std::unique_ptr<ttrpc::Client> client_;  // worker thread only
};

}  // namespace hull::task
