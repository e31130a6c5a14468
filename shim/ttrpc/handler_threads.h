// Runs each ttrpc handler on a thread of its own, reusing threads whose
// handler has returned. A handler may block for as long as a container runs
// (Task.Wait), so this never queues a job behind a busy thread: with no idle
// thread it starts a new one. Threads idle for `idle_timeout` exit.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <thread>

namespace hull::ttrpc {

class HandlerThreads {
 public:
  explicit HandlerThreads(std::chrono::milliseconds idle_timeout = std::chrono::seconds(10));
  // Waits for running jobs and joins every thread. Not from a job.
  ~HandlerThreads();
  HandlerThreads(const HandlerThreads&) = delete;
  HandlerThreads& operator=(const HandlerThreads&) = delete;

  void Run(std::function<void()> job);
  // Threads alive now (for tests).
  size_t ThreadCount();

 private:
  struct Worker {
    std::thread thread;
    bool exited = false;
  };
  void Loop(Worker* self);
  void JoinExitedLocked();

  const std::chrono::milliseconds idle_timeout_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::list<Worker> workers_;
  size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace hull::ttrpc
