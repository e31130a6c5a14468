#include "main/console.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace hull::vmm {

ConsoleOutput::ConsoleOutput(const std::string& path) {
  if (path.empty()) return;
  owned_ = UniqueFd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!owned_.valid()) {
    throw std::runtime_error("console output " + path + ": " + std::strerror(errno));
  }
  fd_ = owned_.get();
}

void ConsoleOutput::Write(std::span<const uint8_t> bytes) {
  std::lock_guard lock(mu_);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // a closed console must not stop the guest
    done += static_cast<size_t>(n);
  }
  for (uint8_t c : bytes) {
    if (c == '\n') {
      if (line_.find("Kernel panic - not syncing") != std::string::npos) saw_panic_ = true;
      line_.clear();
    } else if (line_.size() < 512) {
      line_.push_back(static_cast<char>(c));
    }
  }
}

}  // namespace hull::vmm
