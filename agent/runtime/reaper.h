// The only place that calls waitpid(). A thread reaps every child (as PID 1 the
// agent also inherits orphans) and keeps the exit status of the children the
// runtime registered, so waiters never lose a status to another waitpid.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace hull::runtime {

struct ExitStatus {
  int code = 0;    // exit code, or 128+signal
  int signal = 0;  // 0 unless killed by a signal
};

class Reaper {
 public:
  Reaper();
  ~Reaper();
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;

  // Hold this from just before fork() until expect() so the reaper cannot
  // reap (and drop) the new child before it is registered.
  std::unique_lock<std::mutex> lock() { return std::unique_lock<std::mutex>(mu_); }
  void expect(pid_t pid, const std::unique_lock<std::mutex>& held);
  void expect(pid_t pid);

  ExitStatus wait(pid_t pid);
  std::optional<ExitStatus> wait_for(pid_t pid, int timeout_ms);
  std::optional<ExitStatus> poll(pid_t pid);
  void forget(pid_t pid);

 private:
  void run();

  std::mutex mu_;
  std::condition_variable changed_;
  std::set<pid_t> expected_;
  std::map<pid_t, ExitStatus> exited_;
  bool stopping_ = false;
  std::thread thread_;
};

ExitStatus decode_wait_status(int status);

}  // namespace hull::runtime
