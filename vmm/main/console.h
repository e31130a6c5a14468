// The guest console on the host: bytes from the guest's serial port go to
// stdout or a file/fifo. It also notices the kernel's panic banner, so that
// the reboot a panicking kernel does (panic=N) is reported as a panic.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>

#include "kvm/unique_fd.h"

namespace hull::vmm {

class ConsoleOutput {
 public:
  // `path` empty: stdout. Otherwise a file (created, appended) or a fifo.
  // Throws std::runtime_error naming the path.
  explicit ConsoleOutput(const std::string& path);

  void Write(std::span<const uint8_t> bytes);
  bool saw_panic() const { return saw_panic_.load(); }

 private:
  UniqueFd owned_;
  int fd_ = 1;
  std::mutex mu_;
  std::string line_;  // the current line, for the panic check
  std::atomic<bool> saw_panic_{false};
};

}  // namespace hull::vmm
