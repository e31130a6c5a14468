#include "task/binary_event_publisher.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

extern char** environ;

namespace hull::task {

namespace {

// Closes on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

BinaryEventPublisher::BinaryEventPublisher(std::string publish_binary, std::string containerd_address, std::string ns,
                                           std::shared_ptr<spdlog::logger> logger,
                                           std::chrono::milliseconds retry_pause)
    : QueuedPublisher(ns, std::move(logger), retry_pause),
      binary_(std::move(publish_binary)),
      address_(std::move(containerd_address)) {}

BinaryEventPublisher::~BinaryEventPublisher() { Stop(); }

void BinaryEventPublisher::Deliver(const events_v1::Envelope& envelope) {
  std::vector<std::string> args = {binary_, "--address", address_, "publish", "--topic", envelope.topic(),
                                   "--namespace", envelope.namespace_()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int in_pipe[2], out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  Fd in_read{in_pipe[0]}, in_write{in_pipe[1]};
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  Fd out_read{out_pipe[0]}, out_write{out_pipe[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_read.fd, 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, out_write.fd, 2);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, binary_.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot run publish binary " + binary_ + ": " + std::strerror(rc));
  ::close(std::exchange(in_read.fd, -1));
  ::close(std::exchange(out_write.fd, -1));

  std::string payload = envelope.event().SerializeAsString();
  size_t off = 0;
  while (off < payload.size()) {
    ssize_t n = ::write(in_write.fd, payload.data() + off, payload.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the child went away; its status says why
    off += static_cast<size_t>(n);
  }
  ::close(std::exchange(in_write.fd, -1));
  std::string output = ReadAll(out_read.fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string how = WIFEXITED(status) ? "exited with " + std::to_string(WEXITSTATUS(status))
                                        : "was killed by signal " + std::to_string(WTERMSIG(status));
    while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
    throw std::runtime_error(binary_ + " publish --topic " + envelope.topic() + " " + how + ": " + output);
  }
}

}  // namespace hull::task
