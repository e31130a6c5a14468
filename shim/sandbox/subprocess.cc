#include "sandbox/subprocess.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/sandbox_error.h"
#include "sandbox/unique_fd.h"

extern char** environ;

namespace hull::shim {

CommandResult RunCommand(const std::vector<std::string>& argv) {
  if (argv.empty()) throw SandboxError("RunCommand: empty command");
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    throw SandboxError(std::string("pipe2: ") + std::strerror(errno));
  }
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 2);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  write_end.Reset();
  if (rc != 0) {
    throw SandboxError("cannot run " + argv[0] + ": " + std::strerror(rc) +
                       (rc == ENOENT ? " (is it installed? tools/setup installs it)" : ""));
  }

  CommandResult result;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(read_end.get(), buf, sizeof buf);
    if (n > 0) {
      result.output.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

void RunCommandOrThrow(const std::vector<std::string>& argv, const std::string& what) {
  CommandResult r = RunCommand(argv);
  if (r.exit_code == 0) return;
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  throw SandboxError(what + ": `" + cmd + "` exited with " + std::to_string(r.exit_code) +
                     (r.output.empty() ? "" : ": " + r.output));
}

}  // namespace hull::shim
