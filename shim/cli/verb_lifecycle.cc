// The verbs that move a container through runc's states: start, kill, pause,
// resume and delete (create and exec have files of their own).
#include <memory>

#include "cli/container_control.h"
#include "cli/pod_guest_network.h"
#include "cli/signal_names.h"
#include "cli/verb.h"
#include "cli/verb_util.h"
#include "sandbox/host_hooks.h"
#include "sandbox/sandbox_error.h"

namespace hull::cli {
namespace {
using shim::SandboxError;
constexpr int kNotFound = 5;
constexpr int kFailedPrecondition = 9;

// poststart (after start) or poststop (at delete) on the host, as runc runs
// them. A failure is a warning: the OCI spec lets the lifecycle go on.
void RunHostHooks(const GlobalOptions& global, const shim::ContainerStore& store,
                  const shim::ContainerRecord& record, const std::string& phase, const std::string& status) {
  try {
    const auto stored = shim::LoadHostHooks(store.Dir(record.id) / "host-hooks.json");
    if (!stored) return;
    const auto& hooks = phase == "poststart" ? stored->hooks.poststart : stored->hooks.poststop;
    if (hooks.empty()) return;
    shim::HookState state;
    state.oci_version = stored->oci_version;
    state.id = record.id;
    state.status = status;
    state.pid = status == "stopped" ? 0 : record.keeper.pid;
    state.bundle = record.bundle;
    state.annotations = record.annotations;
    shim::RunHooks(hooks, phase, shim::HookStateJson(state));
  } catch (const std::exception& e) {
    ReportWarning(global, std::string(phase == "poststart" ? "start " : "delete ") + record.id + ": " + e.what());
  }
}
}  // namespace

void StartContainer(const GlobalOptions& global, const std::string& id) {
  const auto store = StoreOf(global);
  LockedContainer c = LoadLocked(store, id);
  if (c.status == "stopped") {
    throw SandboxError("cannot start a container that has stopped", kFailedPrecondition);
  }
  if (c.status != "created") {
    throw SandboxError("cannot start an already " + c.status + " container", kFailedPrecondition);
  }
  try {
    AgentOf(store, id)->StartContainer(id);
  } catch (const SandboxError&) {
    // runc's init is gone when its program cannot start; the keeper stands in
    // for it, so it goes too (with its VM) before the error is reported: the
    // runc shim must see the exit, or it refuses Docker's delete of the failed
    // container ("task must be stopped before deletion") and both stay.
    StopContainerProcesses(store, c.record);
    throw;
  }
  c.record.status = "running";
  store.Save(c.record);
  RunHostHooks(global, store, c.record, "poststart", "running");
}

void DestroyContainer(const GlobalOptions& global, const std::string& id) {
  const auto store = StoreOf(global);
  LockedContainer c = LoadLocked(store, id);
  StopContainerProcesses(store, c.record);
  RemoveRecordedMirrors(c.record);
  RunHostHooks(global, store, c.record, "poststop", "stopped");
  store.Remove(id);
}

Verb AddStartVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global) {
  auto id = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("start", "Start the program of a created container.");
  cmd->add_option("container-id", *id, "the container's id")->required();
  return {cmd, [id, global] {
            return RunReportingErrors(*global, "start " + *id, [&] {
              StartContainer(*global, *id);
              return 0;
            });
          }};
}

Verb AddKillVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global) {
  struct Options {
    std::string id;
    std::string signal = "SIGTERM";
    bool all = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "kill", "Send a signal (default SIGTERM) to the container's init process, or with --all to "
              "every process in it.");
  cmd->add_option("container-id", o->id, "the container's id")->required();
  cmd->add_option("signal", o->signal, "number or name: 9, KILL, SIGKILL")->capture_default_str();
  cmd->add_flag("--all,-a", o->all, "signal every process of the container");
  return {cmd, [o, global] {
            return RunReportingErrors(*global, "kill " + o->id, [&] {
              const auto signal = ParseSignal(o->signal);
              if (!signal) {
                throw SandboxError("invalid signal '" + o->signal +
                                   "': give a number (1-64) or a name such as TERM or SIGKILL");
              }
              const auto store = StoreOf(*global);
              LockedContainer c = LoadLocked(store, o->id);
              if (c.status == "stopped") throw SandboxError("container not running", kFailedPrecondition);
              AgentOf(store, o->id)->SignalProcess(o->id, "", *signal, o->all);
              return 0;
            });
          }};
}

Verb AddPauseVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global, bool pause) {
  auto id = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      pause ? "pause" : "resume",
      pause ? "Freeze every process of the container (cgroup freezer in the guest)."
            : "Thaw a paused container.");
  cmd->add_option("container-id", *id, "the container's id")->required();
  return {cmd, [id, global, pause] {
            return RunReportingErrors(*global, std::string(pause ? "pause " : "resume ") + *id, [&] {
              const auto store = StoreOf(*global);
              LockedContainer c = LoadLocked(store, *id);
              if (pause) {
                RequireRunning(c.status, /*paused_ok=*/false);
                AgentOf(store, *id)->PauseContainer(*id);
                c.record.status = "paused";
              } else {
                if (c.status != "paused") throw SandboxError("container not paused", kFailedPrecondition);
                AgentOf(store, *id)->ResumeContainer(*id);
                c.record.status = "running";
              }
              store.Save(c.record);
              return 0;
            });
          }};
}

Verb AddDeleteVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global) {
  struct Options {
    std::string id;
    bool force = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "delete", "Delete a container: stop its microVM and remove everything hull kept for it.");
  cmd->add_option("container-id", o->id, "the container's id")->required();
  cmd->add_flag("--force,-f", o->force,
                "also delete a running or paused container (killed), and succeed when it does "
                "not exist");
  return {cmd, [o, global] {
            return RunReportingErrors(*global, "delete " + o->id, [&] {
              const auto store = StoreOf(*global);
              LockedContainer c;
              try {
                c = LoadLocked(store, o->id);
              } catch (const SandboxError& e) {
                if (e.code() != kNotFound || !o->force) throw;
                // --force: a directory without a complete state (a create that
                // crashed half-way) still goes.
                if (shim::IsValidContainerId(o->id)) store.Remove(o->id);
                return 0;
              }
              if ((c.status == "running" || c.status == "paused") && !o->force) {
                throw SandboxError("cannot delete container " + o->id + " that is not stopped: " +
                                       c.status + " (stop it with `hull kill`, or use --force)",
                                   kFailedPrecondition);
              }
              StopContainerProcesses(store, c.record);
              RemoveRecordedMirrors(c.record);
              RunHostHooks(*global, store, c.record, "poststop", "stopped");
              store.Remove(o->id);
              return 0;
            });
          }};
}

}  // namespace hull::cli
