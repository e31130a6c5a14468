#include "vm_sandbox/process_stdio.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "sandbox/sandbox_error.h"
#include "sandbox/unique_fd.h"

namespace hull::vm_sandbox {

namespace {

// containerd opens its read side before Create; a writer's open(2) on a fifo
// without a reader would block forever, so wait a bounded time instead.
shim::UniqueFd OpenFifoForWriting(const std::string& path) {
  for (int attempt = 0; attempt < 500; ++attempt) {
    shim::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    if (fd) {
      ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
      return fd;
    }
    if (errno != ENXIO) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return {};
}

}  // namespace

ProcessStdio::ProcessStdio(shim::AgentClient& agent, std::string container_id, std::string exec_id,
                           StdioPaths paths)
    : agent_(agent),
      container_id_(std::move(container_id)),
      exec_id_(std::move(exec_id)),
      paths_(std::move(paths)),
      cancel_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

ProcessStdio::~ProcessStdio() {
  CloseStdin();
  WaitForOutput();
}

void ProcessStdio::Start() {
  stdout_thread_ = std::thread([this] { CopyOutput(false, paths_.stdout_path); });
  if (!paths_.terminal) {
    stderr_thread_ = std::thread([this] { CopyOutput(true, paths_.stderr_path); });
  }
  if (!paths_.stdin_path.empty()) {
    stdin_thread_ = std::thread([this] { CopyInput(); });
  } else {
    try {
      agent_.CloseStdin(container_id_, exec_id_);
    } catch (const shim::SandboxError&) {
    }
  }
}

void ProcessStdio::WaitForOutput() {
  if (stdout_thread_.joinable()) stdout_thread_.join();
  if (stderr_thread_.joinable()) stderr_thread_.join();
}

void ProcessStdio::CopyOutput(bool stderr_stream, const std::string& path) {
  shim::UniqueFd fd;
  if (!path.empty()) fd = OpenFifoForWriting(path);
  try {
    agent_.CopyOutput(container_id_, exec_id_, stderr_stream, [&](const std::string& data) {
      size_t done = 0;
      while (fd && done < data.size()) {
        ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
        if (n <= 0) {
          fd.Reset();  // reader went away: keep draining the stream, drop the bytes
          break;
        }
        done += static_cast<size_t>(n);
      }
    });
  } catch (const shim::SandboxError&) {
    // The process or the VM is gone; closing the fifo tells containerd so.
  }
}

void ProcessStdio::CopyInput() {
  // Non-blocking open never waits for the writer. poll(2) on such a reader
  // reports POLLHUP only after a writer has come and gone (Linux records the
  // writer count at open), so "no client yet" and "client closed" differ.
  shim::UniqueFd fd(::open(paths_.stdin_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  char buf[64 * 1024];
  while (fd && !stdin_closed_) {
    pollfd fds[2] = {{fd.get(), POLLIN, 0}, {cancel_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) break;  // CloseStdin
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;  // the writer closed: EOF
    try {
      agent_.WriteStdin(container_id_, exec_id_, std::string(buf, static_cast<size_t>(n)));
    } catch (const shim::SandboxError&) {
      break;  // the process or the VM is gone
    }
  }
  if (!stdin_closed_.exchange(true)) {
    try {
      agent_.CloseStdin(container_id_, exec_id_);
    } catch (const shim::SandboxError&) {
    }
  }
}

void ProcessStdio::CloseStdin() {
  const bool was_closed = stdin_closed_.exchange(true);
  const uint64_t one = 1;
  (void)!::write(cancel_.get(), &one, sizeof one);
  if (stdin_thread_.joinable()) stdin_thread_.join();
  if (was_closed) return;
  try {
    agent_.CloseStdin(container_id_, exec_id_);
  } catch (const shim::SandboxError&) {
  }
}

}  // namespace hull::vm_sandbox
