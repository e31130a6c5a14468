#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "shim-main/commands.h"
#include "shim-main/shim_socket.h"

extern char** environ;

namespace hull::shim_main {

namespace {

// Removes the socket unless Commit() is called.
class SocketCleanup {
 public:
  explicit SocketCleanup(std::string address) : address_(std::move(address)) {}
  ~SocketCleanup() {
    if (!committed_) RemoveSocket(address_);
  }
  void Commit() { committed_ = true; }

 private:
  std::string address_;
  bool committed_ = false;
};

pid_t SpawnServe(const ShimFlags& flags, const ShimEnvironment& env, int listen_fd) {
  std::vector<std::string> args = {env.self_exe,   "-namespace", flags.namespace_, "-id", flags.id,
                                   "-address",     flags.address, "-publish-binary", flags.publish_binary};
  if (flags.debug) args.push_back("-debug");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  // Park the socket above 3 first so the dup2 onto 3 always clears CLOEXEC.
  int high = ::fcntl(listen_fd, F_DUPFD_CLOEXEC, 10);
  if (high < 0) throw ShimSocketError(std::string("dup of the shim socket failed: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // The serving shim must not hold containerd's pipes: containerd reads
  // start's output until every writer is gone.
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, high, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);  // its own process group, as containerd's shims
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, env.self_exe.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(high);
  if (rc != 0) throw ShimSocketError("cannot start the serving shim " + env.self_exe + ": " + std::strerror(rc));
  return pid;
}

void DrainStdin() {
  // containerd passes runtime options (a protobuf Any) on stdin; hull has
  // none yet, but the pipe must be read so containerd's writer finishes.
  if (::isatty(0)) return;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(0, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
  }
}

}  // namespace

int RunStart(const ShimFlags& flags, const ShimEnvironment& env, std::ostream& out) {
  if (flags.id.empty()) throw ShimUsageError("start needs -id (the task id)");
  if (flags.address.empty()) throw ShimUsageError("start needs -address (containerd's socket)");
  std::string group = GroupFromBundleSpec("config.json", flags.id);
  std::string address = SocketAddress(env.socket_root, flags.address, flags.namespace_, group);

  ListeningSocket socket = BindShimSocket(address);
  if (socket.fd() < 0) {
    if (CanConnect(address)) {
      // Another container of the same pod: its shim (and VM) serves this one too.
      WriteFileAtomically("address", address);
      DrainStdin();
      out << address;
      return 0;
    }
    RemoveSocket(address);  // stale: left by a shim that died
    socket = BindShimSocket(address);
    if (socket.fd() < 0) throw ShimSocketError("shim socket " + address + " is still in use after removing it");
  }
  SocketCleanup cleanup(address);
  WriteFileAtomically("address", address);
  pid_t pid = SpawnServe(flags, env, socket.fd());
  WriteFileAtomically("shim.pid", std::to_string(pid));
  DrainStdin();
  cleanup.Commit();
  out << address;
  return 0;
}

}  // namespace hull::shim_main
