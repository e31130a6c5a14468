#include "io/event_fd.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "io/io_error.h"

namespace hull::vmm::io {

EventFd::EventFd() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!fd_) throw IoError::FromErrno("eventfd");
}

void EventFd::Signal() const {
  const uint64_t one = 1;
  // EAGAIN means the counter is at its maximum: the reader will wake anyway.
  while (write(fd_.get(), &one, sizeof one) < 0 && errno == EINTR) {
  }
}

uint64_t EventFd::Consume() const {
  uint64_t value = 0;
  while (read(fd_.get(), &value, sizeof value) < 0) {
    if (errno != EINTR) return 0;
  }
  return value;
}

}  // namespace hull::vmm::io
