#include "service/stderr_tee.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

namespace hull::service {

StderrTee::StderrTee(LogRing& ring)
    : splitter_(ring), owner_pid_(::getpid()), previous_(stderr) {
  cookie_io_functions_t io{};
  io.write = &StderrTee::CookieWrite;
  tee_ = ::fopencookie(this, "w", io);
  if (tee_ == nullptr) throw std::runtime_error(std::string("fopencookie for the log ring: ") + std::strerror(errno));
  std::setvbuf(tee_, nullptr, _IONBF, 0);  // like stderr: every write goes out at once
  std::fflush(previous_);
  stderr = tee_;
}

StderrTee::~StderrTee() {
  stderr = previous_;
  std::fclose(tee_);
}

ssize_t StderrTee::CookieWrite(void* cookie, const char* buf, size_t size) {
  auto* self = static_cast<StderrTee*>(cookie);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(STDERR_FILENO, buf + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // console gone: the ring still gets the line
    done += static_cast<size_t>(n);
  }
  // A forked child (before exec) must not touch the ring: its copy of the
  // mutex may be held by a thread that does not exist in the child. A child
  // in a new pid namespace of a PID-1 agent is PID 1 too, so the lock is also
  // only tried for a while (the console has the line anyway).
  if (::getpid() == self->owner_pid_) {
    std::unique_lock lock(self->mutex_, std::defer_lock);
    for (int i = 0; i < 1000 && !lock.try_lock(); ++i) std::this_thread::sleep_for(std::chrono::microseconds(100));
    if (lock.owns_lock()) self->splitter_.Write({buf, size});
  }
  return static_cast<ssize_t>(size);
}

}  // namespace hull::service
