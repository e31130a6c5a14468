#include "runtime/reaper.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace hull::runtime {

ExitStatus decode_wait_status(int status) {
  if (WIFSIGNALED(status)) return {128 + WTERMSIG(status), WTERMSIG(status)};
  return {WEXITSTATUS(status), 0};
}

Reaper::Reaper() : thread_([this] { run(); }) {}

Reaper::~Reaper() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  // The thread may be blocked in waitpid(): give it a child to reap.
  pid_t p = ::fork();
  if (p == 0) ::_exit(0);
  thread_.join();
}

void Reaper::expect(pid_t pid, const std::unique_lock<std::mutex>&) {
  expected_.insert(pid);
  changed_.notify_all();
}

void Reaper::expect(pid_t pid) {
  auto held = lock();
  expect(pid, held);
}

void Reaper::run() {
  for (;;) {
    int status = 0;
    pid_t p = ::waitpid(-1, &status, __WALL);
    std::unique_lock<std::mutex> g(mu_);
    if (p > 0) {
      if (expected_.erase(p)) {
        exited_[p] = decode_wait_status(status);
        changed_.notify_all();
      }
      if (stopping_) return;
      continue;
    }
    if (stopping_) return;
    // No children (ECHILD): sleep until a fork registers one. Orphans that
    // arrive meanwhile (PID 1) are picked up at the latest after the timeout.
    changed_.wait_for(g, std::chrono::milliseconds(200));
    if (stopping_) return;
  }
}

ExitStatus Reaper::wait(pid_t pid) {
  std::unique_lock<std::mutex> g(mu_);
  changed_.wait(g, [&] { return exited_.count(pid) != 0; });
  return exited_.at(pid);
}

std::optional<ExitStatus> Reaper::wait_for(pid_t pid, int timeout_ms) {
  std::unique_lock<std::mutex> g(mu_);
  if (!changed_.wait_for(g, std::chrono::milliseconds(timeout_ms),
                         [&] { return exited_.count(pid) != 0; }))
    return std::nullopt;
  return exited_.at(pid);
}

std::optional<ExitStatus> Reaper::poll(pid_t pid) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = exited_.find(pid);
  if (it == exited_.end()) return std::nullopt;
  return it->second;
}

void Reaper::forget(pid_t pid) {
  std::lock_guard<std::mutex> g(mu_);
  exited_.erase(pid);
  expected_.erase(pid);
}

}  // namespace hull::runtime
