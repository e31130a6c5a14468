// The delivery loop shared by both ways of reaching containerd: events are
// queued by Publish (never blocking an RPC) and delivered one at a time, in
// order, by a worker thread. A failed delivery is retried in place (so order
// holds) with a growing pause, up to kMaxAttempts, then dropped with an error
// in the log, as containerd's own shims do.
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"
#include "task/event_publisher.h"

namespace hull::task {

namespace events_v1 = ::containerd::services::events::ttrpc::v1;

class QueuedPublisher : public EventPublisher {
 public:
  static constexpr int kMaxAttempts = 5;
  ~QueuedPublisher() override { Stop(); }

  void Publish(const std::string& topic, const google::protobuf::Message& event) final;
  // Waits until everything queued so far was delivered or dropped.
  bool Flush(std::chrono::milliseconds timeout);

 protected:
  QueuedPublisher(std::string ns, std::shared_ptr<spdlog::logger> logger,
                  std::chrono::milliseconds retry_pause = std::chrono::seconds(1));
  // Derived destructors call this first: delivers what is queued (one attempt
  // each) and joins the worker before the derived part goes away.
  void Stop();
  // One delivery attempt; throws on failure.
  virtual void Deliver(const events_v1::Envelope& envelope) = 0;

  std::shared_ptr<spdlog::logger> log_;

 private:
  void Run();

  std::string namespace_;
  std::chrono::milliseconds retry_pause_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<events_v1::Envelope> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace hull::task
