// hull-agent: the guest's PID 1 and the agent API server (agent/proto).
//   hull-agent                      # in the guest: vsock port 1024
//   hull-agent --listen unix:/path  # on a host, for tests
#include <grpcpp/server_builder.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <thread>

#include "boot_timeline.h"
#include "pid1.h"
#include "runtime/runtime.h"
#include "service/agent_service.h"
#include "service/listener.h"
#include "service/log_ring.h"
#include "service/stderr_tee.h"

namespace {

void log_line(const std::string& m) {
  std::fprintf(stderr, "hull-agent: %s\n", m.c_str());
}

// Milliseconds since the guest kernel started (CLOCK_BOOTTIME): the agent's
// start-up phases on the same time line as the kernel's printk stamps.
long boot_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

}  // namespace

int main(int argc, char** argv) {
  const bool pid1 = ::getpid() == 1;
  auto started = std::chrono::steady_clock::now();
  const long main_boot_ms = boot_ms();
  // Every line written to stderr from here on also lands in the ring the host
  // reads with ReadAgentLog.
  hull::service::LogRing log_ring;
  hull::service::StderrTee stderr_tee(log_ring);
  // Only a real guest boots from an initramfs: PID 1 in a pid namespace on a
  // host (tests) must never poke physical memory.
  if (pid1 && hull::agent::root_is_initramfs()) {
    // First thing: tell the VMM that init runs.
    std::string why = hull::agent::write_boot_marker();
    if (!why.empty()) log_line("boot marker not written: " + why);
  }

  CLI::App app{
      "hull-agent: creates and runs containers inside a hull microVM (serves hull.agent.v1 over "
      "gRPC)"};
  std::string listen = "vsock:1024";
  std::string state_dir = "/run/hull-agent";
  std::string cgroup_mount;
  app.add_option("--listen", listen, "vsock:PORT in the guest, unix:PATH for host tests")
      ->capture_default_str();
  app.add_option("--state-dir", state_dir, "where per-container mounts and resolv.conf go")
      ->capture_default_str();
  app.add_option("--cgroup-root", cgroup_mount,
                 "cgroup2 mount to use (default: found in /proc/self/mountinfo)");
  // As init, the kernel passes unknown command-line words through: ignore them.
  app.allow_extras(pid1);
  const long marker_boot_ms = boot_ms();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  hull::service::ListenAddress address;
  try {
    address = hull::service::parse_listen_address(listen);
  } catch (const std::exception& e) {
    log_line(e.what());
    return 2;
  }

  if (pid1) {
    try {
      hull::agent::init_guest();
    } catch (const std::exception& e) {
      log_line(std::string("guest setup failed: ") + e.what());
      hull::agent::power_off();
    }
  }
  const long setup_boot_ms = boot_ms();

  // SIGTERM/SIGINT are taken by a thread; nothing else may die of them or of SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  // A real handler, even though the signals are only ever taken by sigwait():
  // the kernel drops signals whose handler is SIG_DFL before they reach PID 1.
  ::signal(SIGTERM, [](int) {});
  ::signal(SIGINT, [](int) {});
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  hull::runtime::UniqueFd listen_fd;
  try {
    listen_fd = hull::service::listen_on(address);
  } catch (const std::exception& e) {
    log_line(e.what());
    if (pid1) hull::agent::power_off();
    return 1;
  }

  const long listening_boot_ms = boot_ms();
  hull::runtime::Runtime runtime({state_dir, cgroup_mount});
  hull::service::Sandbox sandbox({state_dir, pid1});
  std::atomic<bool> stop{false};
  auto request_stop = [&] { stop = true; };
  hull::service::AgentService service(runtime, sandbox, request_stop, log_ring);

  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(8 << 20);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    log_line("could not start the gRPC server");
    return 1;
  }

  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (!stop) log_line(std::string("got ") + strsignal(sig) + ", shutting down");
    request_stop();
  });

  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count();
  const long serving_boot_ms = boot_ms();
  log_line("serving hull.agent.v1 on " + listen + " (" + std::to_string(ms) + " ms after start" +
           (pid1 ? ", PID 1)" : ")"));
  // Only on request: every console byte costs boot time (boot_timeline.h).
  if (pid1 && std::getenv("hull_boot_timeline") != nullptr) {
    log_line("boot clock (ms since the kernel started): main " + std::to_string(main_boot_ms) +
             ", boot marker " + std::to_string(marker_boot_ms) + ", guest set up " +
             std::to_string(setup_boot_ms) + ", vsock listening " +
             std::to_string(listening_boot_ms) + ", gRPC server started " +
             std::to_string(serving_boot_ms));
    hull::agent::print_boot_timeline(stderr);
  }
  hull::service::accept_loop(*server, listen_fd.get(), stop);

  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  runtime.remove_all();
  if (address.kind == hull::service::ListenAddress::Kind::unix_socket)
    ::unlink(address.path.c_str());
  pthread_kill(signal_thread.native_handle(),
               SIGTERM);  // wakes it when the stop came from DestroySandbox
  signal_thread.join();
  if (pid1) hull::agent::power_off();
  log_line("stopped");
  return 0;
}
