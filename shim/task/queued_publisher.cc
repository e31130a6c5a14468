#include "task/queued_publisher.h"

#include <chrono>

namespace hull::task {

std::string EventTypeUrl(const google::protobuf::Message& event) { return event.GetTypeName(); }

QueuedPublisher::QueuedPublisher(std::string ns, std::shared_ptr<spdlog::logger> logger,
                                 std::chrono::milliseconds retry_pause)
    : log_(logger ? std::move(logger) : spdlog::default_logger()),
      namespace_(std::move(ns)),
      retry_pause_(retry_pause),
      worker_([this] { Run(); }) {}

void QueuedPublisher::Publish(const std::string& topic, const google::protobuf::Message& event) {
  events_v1::Envelope envelope;
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now);
  envelope.mutable_timestamp()->set_seconds(seconds.count());
  envelope.mutable_timestamp()->set_nanos(static_cast<int32_t>((now - seconds).count() % 1000000000));
  envelope.set_namespace_(namespace_);
  envelope.set_topic(topic);
  envelope.mutable_event()->set_type_url(EventTypeUrl(event));
  envelope.mutable_event()->set_value(event.SerializeAsString());
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(envelope));
  }
  cv_.notify_all();
}

bool QueuedPublisher::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return queue_.empty() && !busy_; });
}

void QueuedPublisher::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void QueuedPublisher::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and nothing left
    events_v1::Envelope envelope = queue_.front();
    busy_ = true;
    queue_.pop_front();
    for (int attempt = 1;; ++attempt) {
      lock.unlock();
      std::string error;
      try {
        Deliver(envelope);
      } catch (const std::exception& e) {
        error = e.what();
      }
      lock.lock();
      if (error.empty()) break;
      if (attempt >= kMaxAttempts || stopping_) {
        log_->error("dropping event {} after {} attempts: {}", envelope.topic(), attempt, error);
        break;
      }
      log_->warn("publishing event {} failed (attempt {}): {}", envelope.topic(), attempt, error);
      cv_.wait_for(lock, retry_pause_ * attempt, [&] { return stopping_; });
    }
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace hull::task
