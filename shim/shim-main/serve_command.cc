#include <fcntl.h>
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "shim-main/commands.h"
#include "shim-main/shim_socket.h"
#include "task/binary_event_publisher.h"
#include "task/task_service.h"
#include "task/ttrpc_event_forwarder.h"
#include "sandbox/runtime_paths.h"
#include "ttrpc/server.h"
#include "vm_sandbox/sandbox_state.h"
#include "vm_sandbox/vm_sandbox.h"

namespace hull::shim_main {

namespace {

// containerd creates the fifo `log` in the bundle and copies whatever the shim
// writes there into its own log; like containerd's shims, send stderr there.
void RedirectStderrToShimLog() {
  int fd = ::open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return;  // run by hand: keep stderr
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    ::dup2(fd, 2);
  }
  ::close(fd);
}

std::shared_ptr<spdlog::logger> MakeLogger(const ShimFlags& flags) {
  auto logger = std::make_shared<spdlog::logger>("shim", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  // logrus's text format, which containerd's own shims write.
  logger->set_pattern("time=\"%Y-%m-%dT%H:%M:%S.%fZ\" level=%l msg=\"%v\" runtime=io.containerd.hull.v2 id=" +
                      flags.id + " namespace=" + flags.namespace_,
                      spdlog::pattern_time_type::utc);
  logger->set_level(flags.debug ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::debug);
  return logger;
}

std::unique_ptr<task::EventPublisher> MakePublisher(const ShimFlags& flags, std::shared_ptr<spdlog::logger> log) {
  const char* ttrpc_address = std::getenv("TTRPC_ADDRESS");
  if (ttrpc_address && *ttrpc_address) {
    return std::make_unique<task::TtrpcEventForwarder>(ttrpc_address, flags.namespace_, log);
  }
  log->info("TTRPC_ADDRESS is not set; publishing events through {} publish", flags.publish_binary);
  return std::make_unique<task::BinaryEventPublisher>(flags.publish_binary, flags.address, flags.namespace_, log);
}

// Wakes main() for SIGTERM/SIGINT or a Shutdown RPC.
class ExitLatch {
 public:
  void Trigger(std::string why) {
    {
      std::lock_guard lock(mu_);
      if (!reason_.empty()) return;
      reason_ = std::move(why);
    }
    cv_.notify_all();
  }
  std::string Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !reason_.empty(); });
    return reason_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::string reason_;
};

}  // namespace

int RunServe(const ShimFlags& flags) {
  if (flags.id.empty()) throw ShimUsageError("serve needs -id (the task id)");
  RedirectStderrToShimLog();
  auto log = MakeLogger(flags);

  // Handle termination signals on one thread; block them everywhere else.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  // Processes the shim starts (hull-vmm) are re-parented here if orphaned.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);

  ttrpc::Server server(log);
  if (flags.socket.empty()) {
    struct stat st {};
    if (::fstat(3, &st) != 0 || !S_ISSOCK(st.st_mode)) {
      throw ShimUsageError("serve expects its listening socket on fd 3 (as `start` passes it) or -socket PATH");
    }
    // Children (publish binary, later hull-vmm) must not inherit the listener.
    ::fcntl(3, F_SETFD, FD_CLOEXEC);
    server.AdoptListener(3);
  } else {
    server.Listen(flags.socket);
  }

  ExitLatch latch;
  auto publisher = MakePublisher(flags, log);
  vm_sandbox::VmSandboxOptions sandbox_options;
  sandbox_options.state_dir = vm_sandbox::SandboxStateDir(flags.namespace_, flags.id);
  sandbox_options.runtime = shim::DiscoverRuntimePaths();
  if (const char* agent_timeout = std::getenv("HULL_START_TIMEOUT"); agent_timeout != nullptr && *agent_timeout != '\0') {
    sandbox_options.agent_timeout = shim::StartTimeoutFrom(agent_timeout, sandbox_options.agent_timeout);
    log->info("waiting up to {} s for hull-vmm and the guest agent to start (HULL_START_TIMEOUT)", sandbox_options.agent_timeout.count());
  }
  sandbox_options.log = log;
  vm_sandbox::VmSandbox sandbox(sandbox_options);
  {
    task::TaskService service(sandbox, *publisher, [&latch] { latch.Trigger("Shutdown requested by containerd"); });
    service.RegisterWith(server);
    server.Start();
    log->info("serving {} (pid {})", task::kTaskServiceName, ::getpid());

    std::thread([&latch, signals] {
      int sig = 0;
      if (sigwait(&signals, &sig) == 0) latch.Trigger(std::string("received ") + strsignal(sig));
    }).detach();

    log->info("shutting down: {}", latch.Wait());
    server.Shutdown();
  }
  sandbox.Shutdown();
  if (auto* queued = dynamic_cast<task::QueuedPublisher*>(publisher.get())) {
    if (!queued->Flush(std::chrono::seconds(5))) log->warn("some task events could not be delivered before exit");
  }
  publisher.reset();
  // As containerd's shims: the socket goes with the shim.
  std::ifstream address_file("address");
  std::string address;
  if (flags.socket.empty() && address_file && std::getline(address_file, address) && !address.empty()) {
    RemoveSocket(address);
  }
  return 0;
}

}  // namespace hull::shim_main
