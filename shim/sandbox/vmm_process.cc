#include "sandbox/vmm_process.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include "sandbox/sandbox_error.h"
#include "sandbox/unique_fd.h"

namespace hull::shim {
namespace {

bool SocketAccepts(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.string().size() >= sizeof addr.sun_path) return false;
  std::strcpy(addr.sun_path, path.c_str());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return fd && ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

int DecodeStatus(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

VmmProcess::VmmProcess(VmmProcessOptions options) : options_(std::move(options)) {
  if (::access(options_.vmm_binary.c_str(), X_OK) != 0) {
    throw SandboxError("hull-vmm not found or not executable at " + options_.vmm_binary.string() +
                       " (build it, or pass --vmm / set vmm in /etc/hull/config.toml)");
  }
  std::error_code ec;
  if (std::filesystem::exists(options_.api_socket, ec)) {
    throw SandboxError("API socket " + options_.api_socket.string() +
                       " already exists: another sandbox with this id is running, or a stale one "
                       "was left behind (delete it first)");
  }
  UniqueFd log(::open(options_.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log) {
    throw SandboxError("cannot open the VMM log " + options_.log_file.string() + ": " +
                       std::strerror(errno));
  }

  std::vector<std::string> args = {options_.vmm_binary.string(), "--api-sock",
                                   options_.api_socket.string()};
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  UniqueFd netns;
  if (!options_.netns.empty()) {
    netns = UniqueFd(::open(options_.netns.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns) {
      throw SandboxError("cannot open the network namespace " + options_.netns + ": " +
                         std::strerror(errno));
    }
  }
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw SandboxError(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    // Child: only async-signal-safe calls until exec.
    if (options_.die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
    }
    int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, 0);
    ::dup2(log.get(), 1);
    ::dup2(log.get(), 2);
    if (netns && ::setns(netns.get(), CLONE_NEWNET) != 0) {
      static constexpr char kMsg[] = "hull-vmm: setns into the pod's network namespace failed\n";
      (void)!::write(2, kMsg, sizeof kMsg - 1);
      ::_exit(126);
    }
    ::setsid();  // own process group: a terminal's ^C goes to the CLI, which stops the VM cleanly
    // Nothing else of ours may leak into the VMM: an inherited ttrpc or gRPC
    // connection would keep containerd talking to a dead shim.
    ::syscall(SYS_close_range, 3u, ~0u, 0u);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }

  const auto deadline = std::chrono::steady_clock::now() + options_.ready_timeout;
  while (!SocketAccepts(options_.api_socket)) {
    if (auto status = WaitForExit(std::chrono::milliseconds(0))) {
      std::string tail = LogTail();
      throw SandboxError("hull-vmm exited with status " + std::to_string(*status) +
                         " before its API was ready" + (tail.empty() ? "" : ":\n" + tail));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      Kill();
      throw SandboxError("hull-vmm's API socket " + options_.api_socket.string() +
                         " was not ready in time; log:\n" + LogTail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

VmmProcess::~VmmProcess() {
  Kill();
  std::error_code ec;
  std::filesystem::remove(options_.api_socket, ec);
}

std::optional<int> VmmProcess::WaitForExit(std::chrono::milliseconds timeout) {
  if (exit_status_ || pid_ <= 0) return exit_status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_status_ = DecodeStatus(status);
      return exit_status_;
    }
    if (r < 0 && errno != EINTR) {
      exit_status_ = -1;  // not our child any more; nothing to wait for
      return exit_status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void VmmProcess::Kill() {
  if (exit_status_ || pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_status_ = DecodeStatus(status);
}

std::string VmmProcess::LogTail(size_t max_bytes) const {
  std::ifstream in(options_.log_file, std::ios::binary | std::ios::ate);
  if (!in) return {};
  const std::streamoff size = in.tellg();
  const std::streamoff start = size > static_cast<std::streamoff>(max_bytes)
                                   ? size - static_cast<std::streamoff>(max_bytes)
                                   : 0;
  in.seekg(start);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace hull::shim
