// A small fixed pool of worker threads for blocking work (disk I/O), so the
// I/O thread never blocks on a slow file. Jobs run in submission order per
// worker availability; the destructor finishes queued jobs and joins.
// `thread_setup` runs first on every worker (its seccomp filter): the
// constructor returns once all have run it, and throws the first failure.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hull::vmm::io {

class ThreadPool {
 public:
  explicit ThreadPool(size_t threads, std::function<void()> thread_setup = {});
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Submit(std::function<void()> job);
  // Blocks until every submitted job has finished (tests, device reset).
  void Drain();

 private:
  void WorkerMain();
  void StopAndJoin();

  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::deque<std::function<void()>> jobs_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace hull::vmm::io
