#include "sandbox/container_keeper.h"

#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "sandbox/agent_client.h"
#include "sandbox/console_socket.h"
#include "sandbox/container_agent.h"
#include "sandbox/host_binds.h"
#include "sandbox/host_hooks.h"
#include "sandbox/microvm.h"
#include "sandbox/rootfs_image.h"
#include "sandbox/sandbox_error.h"

namespace hull::shim {
namespace fs = std::filesystem;

namespace {

// Exit status of a keeper that lost its container without learning how it ended.
constexpr int kUnknownExit = 255;
// How long output may still drain after the process exited (a daemonized
// child can hold the streams open for ever).
constexpr auto kOutputDrain = std::chrono::seconds(5);

// Diagnostics of the keeper: its stdio is the container's, so they go to a file.
class KeeperLog {
 public:
  explicit KeeperLog(fs::path path) : path_(std::move(path)) {}
  void operator()(const std::string& message) const {
    std::ofstream out(path_, std::ios::app);
    out << NowRfc3339Nano() << " keeper " << ::getpid() << ": " << message << "\n";
  }

 private:
  fs::path path_;
};

// The pipe on which a keeper tells the verb that forked it "OK" or why not.
class ReadyPipe {
 public:
  explicit ReadyPipe(int fd) : fd_(fd) {}
  void Ok() { Send("OK"); }
  void Fail(const std::string& reason) { Send("ERR " + reason); }
  bool sent() const { return !fd_; }

 private:
  void Send(const std::string& text) {
    if (!fd_) return;
    size_t done = 0;
    while (done < text.size()) {
      ssize_t n = ::write(fd_.get(), text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    fd_.Reset();
  }
  UniqueFd fd_;
};

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 1000);
      continue;
    }
    if (n <= 0) return;  // the reader went away; the container keeps running
    done += static_cast<size_t>(n);
  }
}

// Copies the process's stdio between host fds and the agent's streams.
// Threads are detached: the keeper ends with _exit once the process is done,
// and a stdin reader may block for ever.
class StdioPumps {
 public:
  StdioPumps(AgentClient& agent, std::string container_id, std::string exec_id, KeeperLog log)
      : agent_(agent), id_(std::move(container_id)), exec_(std::move(exec_id)), log_(std::move(log)) {}

  void StartOutput(int fd, bool stderr_stream) {
    {
      std::lock_guard<std::mutex> lock(state_->mutex);
      ++state_->running;
    }
    std::thread([this, fd, stderr_stream, state = state_] {
      try {
        agent_.CopyOutput(id_, exec_, stderr_stream, [fd](const std::string& d) { WriteAll(fd, d); });
      } catch (const SandboxError& e) {
        log_(std::string("output stream ended: ") + e.what());
      }
      std::lock_guard<std::mutex> lock(state->mutex);
      --state->running;
      state->changed.notify_all();
    }).detach();
  }

  // Reads `fd` into the process's stdin; closes it at end of file unless a terminal.
  void StartInput(int fd, bool close_at_eof) {
    std::thread([this, fd, close_at_eof] {
      char buf[64 * 1024];
      while (true) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        try {
          agent_.WriteStdin(id_, exec_, std::string(buf, static_cast<size_t>(n)));
        } catch (const SandboxError& e) {
          log_(std::string("stdin: ") + e.what());
          return;
        }
      }
      if (!close_at_eof) return;
      try {
        agent_.CloseStdin(id_, exec_);
      } catch (const SandboxError& e) {
        log_(std::string("closing stdin: ") + e.what());
      }
    }).detach();
  }

  // Waits until the output streams ended or `timeout` passed.
  void WaitForOutput(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(state_->mutex);
    state_->changed.wait_for(lock, timeout, [this] { return state_->running == 0; });
  }

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable changed;
    int running = 0;
  };
  AgentClient& agent_;
  std::string id_;
  std::string exec_;
  KeeperLog log_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// Forwards the host terminal's size to the guest's now and on every SIGWINCH
// (delivered to the keeper because the pty slave is its controlling terminal).
void StartResizeForwarder(AgentClient& agent, std::string id, std::string exec_id, int slave_fd,
                          KeeperLog log) {
  auto forward = [&agent, id, exec_id, slave_fd, log] {
    winsize ws{};
    if (::ioctl(slave_fd, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0) return;
    try {
      agent.TtyWinResize(id, exec_id, ws.ws_row, ws.ws_col);
    } catch (const SandboxError& e) {
      log(std::string("resize: ") + e.what());
    }
  };
  forward();
  std::thread([forward] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    int sig = 0;
    while (sigwait(&set, &sig) == 0) forward();
  }).detach();
}

// The host side of the process's stdio: our own fds, or the pty slave whose
// master went to the console socket.
struct KeeperStdio {
  std::optional<HostPty> pty;
  int in = 0, out = 1, err = 2;
};

KeeperStdio SetUpStdio(bool terminal, const std::string& console_socket) {
  KeeperStdio io;
  if (!terminal) return io;
  io.pty = OpenHostPty();
  SendConsoleMaster(console_socket, io.pty->master.get(), io.pty->slave_name);
  io.pty->master.Reset();  // the console socket's receiver has it now
  io.in = io.out = io.err = io.pty->slave.get();
  // The stdio we inherited is the forking verb's: for a terminal container the
  // runc shim (Docker's) reads `create`'s stdout to its end before it goes on,
  // so holding it would stall it until the container exits. runc's init has
  // the pty as its stdio; so does the keeper.
  for (int fd = 0; fd <= 2; ++fd) {
    if (::dup2(io.pty->slave.get(), fd) < 0) {
      throw SandboxError(std::string("cannot give the keeper the terminal as stdio: ") + std::strerror(errno));
    }
  }
  return io;
}

void StartPumps(StdioPumps& pumps, AgentClient& agent, const KeeperStdio& io,
                const std::string& id, const std::string& exec_id, const KeeperLog& log) {
  pumps.StartOutput(io.out, /*stderr_stream=*/false);
  if (io.pty) {
    // With a terminal the guest's pty output is all on stdout.
    pumps.StartInput(io.in, /*close_at_eof=*/false);
    StartResizeForwarder(agent, id, exec_id, io.pty->slave.get(), log);
  } else {
    pumps.StartOutput(io.err, /*stderr_stream=*/true);
    pumps.StartInput(io.in, /*close_at_eof=*/true);
  }
}

// Signals set up before any thread exists, so every thread inherits them.
void PrepareKeeperSignals() {
  ::signal(SIGHUP, SIG_IGN);   // the console's master closing must not end the keeper
  ::signal(SIGPIPE, SIG_IGN);  // a reader of our stdout going away is not fatal
  ::signal(SIGINT, SIG_IGN);   // a terminal's ^C belongs to the container
  // Only SIGWINCH is blocked (for sigwait); whatever the forking verb blocked is not.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGWINCH);
  ::pthread_sigmask(SIG_SETMASK, &set, nullptr);
}

// Forks; the child becomes a session leader (no terminal of the caller's),
// runs `body` and _exits with what it returns. The parent reads the ready pipe:
// returns the child's pid on "OK", else reaps it and throws its reason.
template <typename Body>
pid_t ForkKeeper(const char* what, Body body) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw SandboxError(std::string("pipe: ") + std::strerror(errno));
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const pid_t pid = ::fork();
  if (pid < 0) throw SandboxError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    read_end.Reset();
    ::setsid();
    PrepareKeeperSignals();
    ReadyPipe ready(write_end.Release());
    int status = kUnknownExit;
    try {
      status = body(ready);
    } catch (const std::exception& e) {
      ready.Fail(e.what());
    }
    ::_exit(status);
  }
  write_end.Reset();
  std::string message;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(read_end.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    message.append(buf, static_cast<size_t>(n));
  }
  if (message == "OK") return pid;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (message.rfind("ERR ", 0) == 0) throw SandboxError(message.substr(4));
  throw SandboxError(std::string(what) + ": the keeper process exited without saying why");
}

// Whether config.json asks for a new network namespace (one without a path).
bool WantsNewNetworkNamespace(const nlohmann::json& config) {
  const auto* namespaces = config.contains("linux") && config["linux"].is_object() &&
                                   config["linux"].contains("namespaces") && config["linux"]["namespaces"].is_array()
                               ? &config["linux"]["namespaces"]
                               : nullptr;
  if (namespaces == nullptr) return false;
  for (const auto& ns : *namespaces) {
    if (ns.is_object() && ns.value("type", std::string()) == "network") {
      return ns.value("path", std::string()).empty();
    }
  }
  return false;
}

void SetNetworkNamespacePath(nlohmann::json& config, const std::string& path) {
  for (auto& ns : config["linux"]["namespaces"]) {
    if (ns.is_object() && ns.value("type", std::string()) == "network") ns["path"] = path;
  }
}

// Whether our own network namespace has an interface with an IPv4 address
// (other than loopback) to mirror into the guest.
bool HasIpv4Interface() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* a = list; a != nullptr && !found; a = a->ifa_next) {
    found = a->ifa_addr != nullptr && a->ifa_addr->sa_family == AF_INET && (a->ifa_flags & IFF_LOOPBACK) == 0;
  }
  ::freeifaddrs(list);
  return found;
}

// runc's prestart and createRuntime hooks, on the host, with the keeper as the
// container's process. Docker's (libnetwork-setkey) hands the pid's network
// namespace to dockerd, which moves the container's veth into it, so a spec
// that asks for a new namespace gets one here, made by the keeper; the VMM
// then starts in it and mirrors what the hooks put there into the guest.
// Returns the config with that namespace's path, for the network set-up.
nlohmann::json RunCreateHooks(const CreateKeeperOptions& options, const HostHooks& hooks, nlohmann::json config,
                              bool& own_netns) {
  own_netns = false;
  if (hooks.prestart.empty() && hooks.create_runtime.empty()) return config;
  if (WantsNewNetworkNamespace(config)) {
    if (::unshare(CLONE_NEWNET) != 0) {
      throw SandboxError(std::string("cannot create the container's network namespace for its prestart hooks "
                                     "(unshare: ") + std::strerror(errno) + "; hull create needs root)");
    }
    own_netns = true;
  }
  HookState state;
  state.oci_version = config.value("ociVersion", std::string());
  state.id = options.record.id;
  state.status = "creating";
  state.pid = ::getpid();
  state.bundle = options.record.bundle;
  state.annotations = options.record.annotations;
  const std::string state_json = HookStateJson(state);
  RunHooks(hooks.prestart, "prestart", state_json);
  RunHooks(hooks.create_runtime, "createRuntime", state_json);
  if (own_netns) {
    if (!HasIpv4Interface()) {
      // Nothing to mirror (docker run --network none): the guest has no NIC,
      // and the container gets the new, empty namespace it asked for in the guest.
      own_netns = false;
      return config;
    }
    SetNetworkNamespacePath(config, "/proc/" + std::to_string(::getpid()) + "/ns/net");
  }
  return config;
}

int RunCreateKeeper(const CreateKeeperOptions& options, ReadyPipe& ready) {
  const ContainerStore store(options.root);
  const std::string& id = options.record.id;
  const fs::path dir = store.Dir(id);
  const KeeperLog log(dir / "keeper.log");
  KeeperStdio io = SetUpStdio(options.record.terminal, options.console_socket);

  nlohmann::json config = nlohmann::json::parse(options.config_text, nullptr, false);
  if (!config.is_object()) throw SandboxError("config.json is not a JSON object");
  // The host's hooks run here; the guest agent gets only createContainer and startContainer.
  const HostHooks hooks = HostHooksFrom(config);
  RemoveHostHooks(config);
  const fs::path staging = dir / "binds";
  const int binds = StageHostBinds(config, staging);
  const fs::path binds_image = dir / "binds.erofs";
  if (binds > 0) {
    BuildErofsImage(staging, binds_image);
    std::error_code ec;
    fs::remove_all(staging, ec);
  }

  const fs::path image = dir / "rootfs.erofs";
  BuildErofsImage(options.record.rootfs, image);
  bool own_netns = false;
  const nlohmann::json network_config = RunCreateHooks(options, hooks, config, own_netns);
  if (!hooks.empty()) {
    SaveHostHooks(dir / "host-hooks.json", {config.value("ociVersion", std::string()), hooks});
  }
  // Declared before the VM: its taps go after the VMM that holds them.
  std::unique_ptr<GuestNetwork> network;
  if (options.network) network = options.network(network_config.dump(), dir / "keeper.log");
  MicroVmSpec spec;
  spec.id = id;
  spec.state_dir = dir;
  spec.runtime = options.runtime;
  spec.vcpus = options.vcpus;
  spec.mem_mib = options.mem_mib;
  spec.drives.push_back({"rootfs", image, /*read_only=*/true});  // /dev/vda
  if (binds > 0) spec.drives.push_back({"binds", binds_image, /*read_only=*/true});  // /dev/vdb
  if (network) {
    spec.netns = network->netns();
    spec.nets = network->Nics();
  }
  spec.die_with_parent = true;  // the keeper's death (delete, crash) takes the VM with it
  auto vm = std::make_unique<MicroVm>(spec);

  auto* agent = new AgentClient(
      vm->DialGuest(kAgentVsockPort, std::chrono::steady_clock::now() + options.agent_timeout));
  // Never destroyed: pump threads may still use it when the keeper _exits.
  agent->Health();
  agentpb::CreateSandboxRequest sandbox;
  sandbox.set_sandbox_id(id);
  sandbox.set_hostname(config.value("hostname", id));
  if (binds > 0) {
    auto* mount = sandbox.add_guest_mounts();
    mount->set_source("/dev/vdb");
    mount->set_fstype("erofs");
    mount->add_options("ro");
    mount->set_mount_point(kGuestBindsDir);
  }
  if (network) network->Describe(sandbox);
  agent->CreateSandbox(sandbox);
  agentpb::CreateContainerRequest create;
  create.set_container_id(id);
  create.set_oci_config_json(network ? network->ConfigForGuest(network_config.dump()) : config.dump());
  auto* block = create.mutable_rootfs()->mutable_block();
  block->set_device("/dev/vda");
  block->set_fstype("erofs");
  block->set_writable_overlay(true);
  agent->CreateContainer(create);

  auto* pumps = new StdioPumps(*agent, id, "", log);
  StartPumps(*pumps, *agent, io, id, "", log);

  ContainerRecord record = options.record;
  record.status = "created";
  record.keeper = IdentifyProcess(::getpid()).value_or(ProcessIdentity{::getpid(), 0});
  record.vmm = IdentifyProcess(vm->process().pid()).value_or(ProcessIdentity{});
  // A namespace the keeper made goes with it (or with the mount the hooks'
  // owner made of it): nothing for `delete` to undo there, and its /proc path
  // would name another process's namespace once the pid is reused.
  if (network && !own_netns) {
    record.netns = network->netns();
    for (const auto& m : network->Mirrors()) record.mirrors.emplace_back(m.veth, m.tap);
  }
  store.Save(record);
  log("container created; microVM pid " + std::to_string(record.vmm.pid));
  ready.Ok();

  int exit_status = kUnknownExit;
  try {
    exit_status = agent->WaitProcess(id, "").exit_status();
    log("container exited with status " + std::to_string(exit_status));
  } catch (const SandboxError& e) {
    log(std::string("lost the container: ") + e.what() + "; VMM log:\n" + vm->process().LogTail());
  }
  pumps->WaitForOutput(kOutputDrain);
  try {
    ContainerLock lock = store.Lock(id);
    ContainerRecord now = store.Load(id);
    now.status = "stopped";
    now.exit_status = exit_status;
    store.Save(now);
  } catch (const SandboxError& e) {
    log(std::string("cannot record the exit: ") + e.what());  // deleted meanwhile
  }
  try {
    agent->DestroySandbox(/*shutdown_vm=*/true);
  } catch (const SandboxError& e) {
    log(std::string("DestroySandbox: ") + e.what());
  }
  vm->WaitForShutdown(std::chrono::seconds(10));
  vm.reset();  // removes the VM's sockets
  network.reset();  // then the taps the VMM held
  std::error_code ec;
  fs::remove(image, ec);
  fs::remove(binds_image, ec);
  return exit_status & 0xff;
}

int RunExecKeeper(const ExecKeeperOptions& options, ReadyPipe& ready) {
  const ContainerStore store(options.root);
  const fs::path dir = store.Dir(options.container_id);
  const KeeperLog log(dir / "keeper.log");
  KeeperStdio io = SetUpStdio(options.terminal, options.console_socket);
  AgentClient* agent = DialContainerAgent(dir).release();  // never destroyed, as above
  const uint32_t guest_pid = agent->ExecProcess(options.container_id, options.exec_id, options.process_json);
  log("exec " + options.exec_id + " started, guest pid " + std::to_string(guest_pid));
  auto* pumps = new StdioPumps(*agent, options.container_id, options.exec_id, log);
  StartPumps(*pumps, *agent, io, options.container_id, options.exec_id, log);
  ready.Ok();
  int exit_status = kUnknownExit;
  try {
    exit_status = agent->WaitProcess(options.container_id, options.exec_id).exit_status();
    log("exec " + options.exec_id + " exited with status " + std::to_string(exit_status));
  } catch (const SandboxError& e) {
    log("exec " + options.exec_id + ": " + e.what());
  }
  pumps->WaitForOutput(kOutputDrain);
  return exit_status & 0xff;
}

}  // namespace

pid_t SpawnCreateKeeper(const CreateKeeperOptions& options) {
  if (options.record.terminal && options.console_socket.empty()) {
    throw SandboxError("process.terminal is true in config.json but no --console-socket was given "
                       "(hull needs one to hand over the terminal, as runc does when detached)");
  }
  if (!options.record.terminal && !options.console_socket.empty()) {
    throw SandboxError("--console-socket was given but process.terminal is false in config.json");
  }
  return ForkKeeper("create", [&options](ReadyPipe& ready) { return RunCreateKeeper(options, ready); });
}

pid_t SpawnExecKeeper(const ExecKeeperOptions& options) {
  if (options.terminal && options.console_socket.empty()) {
    throw SandboxError("a terminal (-t or process.terminal) needs --console-socket to hand it over");
  }
  if (!options.terminal && !options.console_socket.empty()) {
    throw SandboxError("--console-socket was given without a terminal (-t)");
  }
  return ForkKeeper("exec", [&options](ReadyPipe& ready) { return RunExecKeeper(options, ready); });
}

}  // namespace hull::shim
