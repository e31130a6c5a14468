#include "runtime/process_io.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>

#include <cerrno>
#include <cstdlib>

#include "runtime/error.h"

namespace hull::runtime {
namespace {

void make_pipe(UniqueFd& read_end, UniqueFd& write_end) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw_errno("pipe2 for container stdio");
  read_end.reset(p[0]);
  write_end.reset(p[1]);
}

}  // namespace

ProcessIo::ProcessIo(bool terminal, ChildStdio& child) : terminal_(terminal) {
  child.terminal = terminal;
  if (!terminal) {
    make_pipe(child.in, stdin_);
    make_pipe(stdout_, child.out);
    make_pipe(stderr_, child.err);
    return;
  }
}

void ProcessIo::attach_terminal(UniqueFd master) {
  stdin_.reset(::fcntl(master.get(), F_DUPFD_CLOEXEC, 3));
  if (!stdin_) throw_errno("dup of the pty master");
  stdout_ = std::move(master);
}

size_t ProcessIo::write_stdin(const std::string& data) {
  if (data.size() > kMaxStdinWrite)
    throw RuntimeError(ErrorKind::resource_exhausted,
                       "stdin write of " + std::to_string(data.size()) +
                           " bytes is over the 1 MiB limit per call; split it");
  std::lock_guard<std::mutex> g(stdin_mu_);
  if (!stdin_) throw RuntimeError(ErrorKind::failed_precondition, "stdin is closed");
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(stdin_.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EPIPE)
      throw RuntimeError(ErrorKind::failed_precondition, "stdin: the process closed its end");
    if (n < 0) throw_errno("writing to stdin");
    done += static_cast<size_t>(n);
  }
  return done;
}

void ProcessIo::close_stdin() {
  std::lock_guard<std::mutex> g(stdin_mu_);
  if (terminal_ && stdin_) {
    // A pty has no half close: send EOF (^D) as a terminal would.
    char eot = 4;
    (void)!::write(stdin_.get(), &eot, 1);
  }
  stdin_.reset();
}

void ProcessIo::read_output(OutputStream which, const std::function<bool(const std::string&)>& sink,
                            const std::function<bool()>& cancelled) {
  std::atomic<bool>& busy =
      which == OutputStream::stdout_stream ? stdout_reading_ : stderr_reading_;
  if (busy.exchange(true))
    throw RuntimeError(ErrorKind::failed_precondition,
                       "another client is already reading this stream");
  struct Release {
    std::atomic<bool>& b;
    ~Release() { b = false; }
  } release{busy};
  int fd = which == OutputStream::stdout_stream ? stdout_.get() : stderr_.get();
  if (fd < 0) return;  // stderr of a terminal process: empty
  char buf[64 * 1024];
  for (;;) {
    if (cancelled()) return;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, 200);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw_errno("poll on container output");
    if (r == 0) continue;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0 && errno == EIO && terminal_) return;  // pty: every slave closed
    if (n < 0) throw_errno("reading container output");
    if (n == 0) return;
    if (!sink(std::string(buf, static_cast<size_t>(n)))) return;
  }
}

void ProcessIo::resize(unsigned rows, unsigned columns) {
  if (!terminal_)
    throw RuntimeError(ErrorKind::failed_precondition, "the process has no terminal to resize");
  winsize ws{};
  ws.ws_row = static_cast<unsigned short>(rows);
  ws.ws_col = static_cast<unsigned short>(columns);
  if (::ioctl(stdout_.get(), TIOCSWINSZ, &ws) != 0) throw_errno("TIOCSWINSZ");
}

}  // namespace hull::runtime
