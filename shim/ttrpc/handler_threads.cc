#include "ttrpc/handler_threads.h"

namespace hull::ttrpc {

HandlerThreads::HandlerThreads(std::chrono::milliseconds idle_timeout) : idle_timeout_(idle_timeout) {}

HandlerThreads::~HandlerThreads() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  // Workers run the jobs still queued, then exit; nothing else touches the list now.
  for (auto& worker : workers_) {
    if (worker.thread.joinable()) worker.thread.join();
  }
}

void HandlerThreads::Run(std::function<void()> job) {
  std::lock_guard lock(mu_);
  JoinExitedLocked();
  jobs_.push_back(std::move(job));
  if (idle_ >= jobs_.size()) {
    cv_.notify_one();
    return;
  }
  Worker& worker = workers_.emplace_back();
  worker.thread = std::thread(&HandlerThreads::Loop, this, &worker);
}

size_t HandlerThreads::ThreadCount() {
  std::lock_guard lock(mu_);
  JoinExitedLocked();
  return workers_.size();
}

void HandlerThreads::JoinExitedLocked() {
  // An exited worker no longer needs the lock, so joining it here cannot block
  // on us.
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->exited) {
      it->thread.join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
}

void HandlerThreads::Loop(Worker* self) {
  std::unique_lock lock(mu_);
  while (true) {
    if (jobs_.empty()) {
      if (stopping_) break;
      ++idle_;
      bool woke = cv_.wait_for(lock, idle_timeout_, [&] { return stopping_ || !jobs_.empty(); });
      --idle_;
      if (!woke) break;  // idle too long
      continue;
    }
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    job = nullptr;  // release what the job captured outside the lock
    lock.lock();
  }
  self->exited = true;
}

}  // namespace hull::ttrpc
