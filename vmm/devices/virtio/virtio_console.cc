#include "devices/virtio/virtio_console.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "devices/virtio/device_error.h"

namespace hull::vmm::virtio {
namespace {

constexpr size_t kRxQueue = 0;
constexpr size_t kTxQueue = 1;

bool Pollable(int fd) {
  struct stat st {};
  return fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode);
}

void SetNonBlocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

}  // namespace

VirtioConsole::VirtioConsole(io::UniqueFd output, io::UniqueFd input, io::EventLoop& loop)
    : VirtioDevice(kDeviceTypeConsole, 0, {kQueueSize, kQueueSize}),
      output_(std::move(output)),
      input_(std::move(input)),
      loop_(loop) {
  if (!output_) throw DeviceError("virtio-console needs an output file or socket");
  output_pollable_ = Pollable(output_.get());
  if (output_pollable_) SetNonBlocking(output_.get());
  if (input_) {
    if (!Pollable(input_.get())) {
      throw DeviceError("virtio-console input must be a pipe, socket or terminal, not a regular file");
    }
    SetNonBlocking(input_.get());
  }
  config_space_.assign(8, 0);  // cols, rows, max_nr_ports: unused without F_SIZE/F_MULTIPORT
}

VirtioConsole::~VirtioConsole() {
  std::lock_guard lock(mutex());
  OnReset();
}

void VirtioConsole::OnActivate() {
  input_readable_ = false;
  UpdateWatches();
}

void VirtioConsole::OnReset() {
  pending_output_.clear();
  if (output_watch_) loop_.Remove(output_.get());
  if (input_watch_) loop_.Remove(input_.get());
  output_watch_ = input_watch_ = 0;
}

void VirtioConsole::UpdateWatches() {
  const uint32_t want_out = (output_pollable_ && !pending_output_.empty()) ? uint32_t{EPOLLOUT} : 0u;
  if (want_out != output_watch_) {
    if (want_out) {
      loop_.Add(output_.get(), EPOLLOUT, [this](uint32_t) {
        Guarded([this] {
          FlushOutput();
          if (pending_output_.empty()) ProcessTx();  // resume what back pressure held
        });
      });
    } else {
      loop_.Remove(output_.get());
    }
    output_watch_ = want_out;
  }
  const uint32_t want_in = (input_.valid() && !input_readable_ && !input_eof_) ? uint32_t{EPOLLIN} : 0u;
  if (want_in != input_watch_) {
    if (want_in) {
      loop_.Add(input_.get(), EPOLLIN, [this](uint32_t) {
        Guarded([this] {
          input_readable_ = true;
          PumpInput();
        });
      });
    } else {
      loop_.Remove(input_.get());
    }
    input_watch_ = want_in;
  }
}

void VirtioConsole::ProcessQueue(size_t index) {
  if (index == kTxQueue) ProcessTx();
  if (index == kRxQueue) PumpInput();
}

void VirtioConsole::ProcessTx() {
  Queue& q = queues()[kTxQueue];
  bool used = false;
  do {
    while (pending_output_.size() < kMaxPendingOutput) {
      auto chain = q.Pop();
      if (!chain) break;
      for (auto part : chain->readable()) pending_output_.append(reinterpret_cast<const char*>(part.data()), part.size());
      q.AddUsed(chain->head(), 0);
      used = true;
      FlushOutput();
    }
    if (pending_output_.size() >= kMaxPendingOutput) break;  // resumed on EPOLLOUT
  } while (q.EnableNotification());
  if (used) SignalUsed(q);
  UpdateWatches();
}

void VirtioConsole::FlushOutput() {
  size_t done = 0;
  while (done < pending_output_.size()) {
    ssize_t n = write(output_.get(), pending_output_.data() + done, pending_output_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      done = pending_output_.size();  // the reader is gone: output is dropped, the guest carries on
      break;
    }
    done += static_cast<size_t>(n);
  }
  pending_output_.erase(0, done);
}

void VirtioConsole::PumpInput() {
  Queue& q = queues()[kRxQueue];
  bool used = false;
  while (input_readable_ && q.active()) {
    auto chain = q.Pop();
    if (!chain) break;
    std::vector<iovec> iov;
    for (auto part : chain->writable()) iov.push_back({part.data(), part.size()});
    if (iov.empty()) {
      q.AddUsed(chain->head(), 0);
      used = true;
      continue;
    }
    ssize_t n;
    do {
      n = readv(input_.get(), iov.data(), static_cast<int>(std::min<size_t>(iov.size(), IOV_MAX)));
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
      q.AddUsed(chain->head(), static_cast<uint32_t>(n));
      used = true;
      continue;
    }
    q.UndoPop();
    input_readable_ = false;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) input_eof_ = true;
  }
  if (used) SignalUsed(q);
  UpdateWatches();
}

}  // namespace hull::vmm::virtio
