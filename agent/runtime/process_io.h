// The agent's end of a container process's stdio: three pipes, or a pty
// master when the process has a terminal (stdout then carries both streams).
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>

#include "runtime/unique_fd.h"

namespace hull::runtime {

// What the child gets as fds 0, 1, 2 (all the same pty slave with a terminal).
struct ChildStdio {
  UniqueFd in, out, err;
  bool terminal = false;
};

enum class OutputStream { stdout_stream, stderr_stream };

constexpr size_t kMaxStdinWrite = 1 << 20;

class ProcessIo {
 public:
  // Creates the pipes (`child` receives the ends for the process) or, with a
  // terminal, waits for attach_terminal(): the process makes its own pty.
  ProcessIo(bool terminal, ChildStdio& child);
  void attach_terminal(UniqueFd master);

  bool terminal() const { return terminal_; }
  // Writes all of `data` (at most kMaxStdinWrite). Throws when stdin is closed.
  size_t write_stdin(const std::string& data);
  void close_stdin();
  // Calls `sink` with each chunk until end of file or until `cancelled` says
  // so (checked every 200 ms). One reader per stream at a time.
  void read_output(OutputStream which, const std::function<bool(const std::string&)>& sink,
                   const std::function<bool()>& cancelled);
  void resize(unsigned rows, unsigned columns);

 private:
  bool terminal_;
  std::mutex stdin_mu_;
  UniqueFd stdin_;
  UniqueFd stdout_, stderr_;  // with a terminal: stdout_ is the master, stdin_ a dup of it
  std::atomic<bool> stdout_reading_{false}, stderr_reading_{false};
};

}  // namespace hull::runtime
