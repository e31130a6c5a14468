#include "io/thread_pool.h"

#include <future>

namespace hull::vmm::io {

ThreadPool::ThreadPool(size_t threads, std::function<void()> thread_setup) {
  if (threads == 0) threads = 1;
  workers_.reserve(threads);
  std::vector<std::promise<void>> ready(threads);
  for (size_t i = 0; i < threads; ++i) {
    workers_.emplace_back([this, &thread_setup, started = &ready[i]] {
      try {
        if (thread_setup) thread_setup();
        started->set_value();
      } catch (...) {
        started->set_exception(std::current_exception());
        return;
      }
      WorkerMain();
    });
  }
  try {
    for (auto& r : ready) r.get_future().get();
  } catch (...) {
    StopAndJoin();
    throw;
  }
}

ThreadPool::~ThreadPool() { StopAndJoin(); }

void ThreadPool::StopAndJoin() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void ThreadPool::Submit(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  work_cv_.notify_one();
}

void ThreadPool::Drain() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return jobs_.empty() && running_ == 0; });
}

void ThreadPool::WorkerMain() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping and nothing left
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    ++running_;
    lock.unlock();
    job();
    lock.lock();
    --running_;
    if (jobs_.empty() && running_ == 0) idle_cv_.notify_all();
  }
}

}  // namespace hull::vmm::io
