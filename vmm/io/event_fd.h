// A non-blocking eventfd counter: a doorbell between threads (queue
// notifications, worker completions, irqfd/ioeventfd with KVM).
#pragma once

#include <cstdint>

#include "io/unique_fd.h"

namespace hull::vmm::io {

class EventFd {
 public:
  EventFd();  // throws IoError
  // Adds 1; never blocks (a saturated counter is already "signalled").
  void Signal() const;
  // Reads and clears the counter; 0 when it was not signalled.
  uint64_t Consume() const;
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
};

}  // namespace hull::vmm::io
