// Tees everything the agent writes through stdio's `stderr` (its own log
// lines, the runtime's warnings, gRPC's log) into a LogRing, while still
// writing it, unchanged and synchronously, to file descriptor 2 (the
// console in the guest). Synchronous so that a last message before
// power-off still reaches the console. Restores `stderr` when destroyed.
#pragma once

#include <cstdio>
#include <mutex>

#include "service/log_ring.h"

namespace hull::service {

class StderrTee {
 public:
  explicit StderrTee(LogRing& ring);
  ~StderrTee();
  StderrTee(const StderrTee&) = delete;
  StderrTee& operator=(const StderrTee&) = delete;

 private:
  static ssize_t CookieWrite(void* cookie, const char* buf, size_t size);

  LineSplitter splitter_;
  std::mutex mutex_;
  pid_t owner_pid_;
  FILE* previous_;
  FILE* tee_;
};

}  // namespace hull::service
