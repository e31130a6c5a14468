// `hull exec`: run one more process in a running container. A keeper process
// (see sandbox/container_keeper.h) holds its stdio and exits with its status;
// without --detach `hull exec` waits for it, forwarding signals to the process,
// and exits with its status.
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <memory>
#include <random>
#include <sstream>

#include "cli/container_control.h"
#include "cli/exec_process.h"
#include "cli/verb.h"
#include "cli/verb_util.h"
#include "sandbox/container_keeper.h"
#include "sandbox/sandbox_error.h"

namespace hull::cli {
namespace {
using shim::SandboxError;

struct ExecOptions {
  std::string id;
  ExecRequest request;
  bool tty = false;
  bool detach = false;
  std::string pid_file;
  std::string console_socket;
  unsigned preserve_fds = 0;
  std::string process_label, apparmor;
  std::vector<std::string> caps;
  bool no_new_privs = false;
  bool ignore_paused = false;
};

std::string NewExecId() {
  std::random_device random;
  std::ostringstream id;
  id << "exec-" << std::hex << std::setfill('0') << std::setw(8) << random() << std::setw(8) << random();
  return id.str();
}

nlohmann::json ContainerProcess(const std::string& bundle) {
  std::ifstream in(std::filesystem::path(bundle) / "config.json");
  nlohmann::json config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object() || !config.contains("process")) {
    throw SandboxError("cannot read the container's process from " + bundle +
                       "/config.json; pass the process with --process FILE");
  }
  return config["process"];
}

// Waits for a foreground exec's keeper; meanwhile the signals a terminal or a
// supervisor sends us go to the process in the guest, as runc exec forwards them.
sigset_t ForwardedSignals() {
  sigset_t forwarded;
  sigemptyset(&forwarded);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&forwarded, sig);
  return forwarded;
}

// The signals must be blocked (ForwardedSignals) before the keeper is forked,
// so none arriving once the process runs is lost.
int WaitForwardingSignals(pid_t keeper, const shim::ContainerStore& store, const std::string& id,
                          const std::string& exec_id) {
  const sigset_t forwarded = ForwardedSignals();
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(keeper, &status, WNOHANG);
    if (r == keeper) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0 && errno != EINTR) return kExitFailure;
    const timespec poll_interval{0, 100 * 1000 * 1000};
    const int sig = ::sigtimedwait(&forwarded, nullptr, &poll_interval);
    if (sig <= 0) continue;
    try {
      AgentOf(store, id)->SignalProcess(id, exec_id, sig, /*all=*/false);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "hull: exec %s: forwarding signal %d: %s\n", id.c_str(), sig, e.what());
    }
  }
}

}  // namespace

Verb AddExecVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global) {
  auto o = std::make_shared<ExecOptions>();
  CLI::App* cmd = app.add_subcommand("exec", "Run a process in a running container.");
  cmd->add_option("container-id", o->id, "the container's id")->required();
  cmd->add_option("command", o->request.args, "the program and its arguments");
  cmd->add_option("--process,-p", o->request.process_file, "an OCI process JSON file to run");
  cmd->add_option("--env,-e", o->request.env, "KEY=VALUE added to the environment");
  cmd->add_option("--cwd", o->request.cwd, "working directory in the container");
  cmd->add_option("--user,-u", o->request.user, "UID[:GID] to run as");
  cmd->add_flag("--tty,-t", o->tty, "give the process a terminal (needs --console-socket)");
  cmd->add_flag("--detach,-d", o->detach, "return once the process runs");
  cmd->add_option("--pid-file", o->pid_file, "write the pid of the process's host keeper here");
  cmd->add_option("--console-socket", o->console_socket,
                  "unix socket that receives the pty master (with a terminal)");
  cmd->add_option("--preserve-fds", o->preserve_fds, "accepted for runc compatibility; only 0 works");
  cmd->add_option("--process-label", o->process_label, "accepted for runc compatibility; ignored");
  cmd->add_option("--apparmor", o->apparmor, "accepted for runc compatibility; ignored");
  cmd->add_option("--cap,-c", o->caps, "accepted for runc compatibility; use --process for capabilities");
  cmd->add_flag("--no-new-privs", o->no_new_privs, "set noNewPrivileges for the process");
  cmd->add_flag("--ignore-paused", o->ignore_paused, "accepted for runc compatibility");
  cmd->positionals_at_end();
  return {cmd, [o, global, cmd] {
            return RunReportingErrors(*global, "exec " + o->id, [&]() -> int {
              if (o->preserve_fds != 0) {
                throw SandboxError("--preserve-fds: host fds cannot be passed into a microVM; use 0");
              }
              if (cmd->count("--tty") > 0) o->request.tty = o->tty;
              const auto store = StoreOf(*global);
              const auto record = store.Load(o->id);
              const std::string status = shim::EffectiveStatus(record);
              if (status == "stopped") throw SandboxError("cannot exec in a stopped container", 9);
              if (status == "paused") throw SandboxError("cannot exec in a paused container", 9);
              nlohmann::json base;
              if (o->request.process_file.empty()) base = ContainerProcess(record.bundle);
              nlohmann::json process = BuildExecProcess(o->request, base);
              if (o->no_new_privs) process["noNewPrivileges"] = true;
              shim::ExecKeeperOptions keeper;
              keeper.container_id = o->id;
              keeper.root = global->root;
              keeper.exec_id = NewExecId();
              keeper.terminal = process.value("terminal", false);
              keeper.process_json = process.dump();
              keeper.console_socket = o->console_socket;
              if (!o->detach) {
                const sigset_t forwarded = ForwardedSignals();
                ::sigprocmask(SIG_BLOCK, &forwarded, nullptr);
              }
              const pid_t pid = shim::SpawnExecKeeper(keeper);
              if (!o->pid_file.empty()) WritePidFile(o->pid_file, pid);
              return o->detach ? 0 : WaitForwardingSignals(pid, store, o->id, keeper.exec_id);
            });
          }};
}

}  // namespace hull::cli
