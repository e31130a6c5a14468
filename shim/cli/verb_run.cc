// `hull run`: create and start a container from an OCI bundle in its own
// microVM. In the foreground (runc's default) hull waits for it and exits with
// its status; with --detach it is `create` + `start`: the keeper holds the
// container and `hull run -d` returns once it runs (runc's `run -d`).
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/global_options.h"
#include "cli/pod_guest_network.h"
#include "cli/verb.h"
#include "cli/verb_util.h"
#include "sandbox/bundle_runner.h"
#include "sandbox/sandbox_error.h"

namespace hull::cli {
namespace {

struct RunOptions {
  CreateOptions create;  // id, bundle, pid file, console socket, microVM
  bool detach = false;
  bool keep_state = false;
  bool no_pivot = false;
  bool no_new_keyring = false;
};

int RunForeground(const GlobalOptions& global, const RunOptions& o) {
  shim::BundleRunOptions run;
  run.container_id = o.create.id;
  run.bundle = std::filesystem::absolute(o.create.bundle);
  run.state_root = global.root;
  run.runtime = shim::DiscoverRuntimePaths();
  if (!o.create.vmm.empty()) run.runtime.vmm_binary = o.create.vmm;
  if (!o.create.kernel.empty()) run.runtime.kernel = o.create.kernel;
  if (!o.create.initrd.empty()) run.runtime.initrd = o.create.initrd;
  run.vcpus = o.create.vcpus;
  run.mem_mib = o.create.memory_mib;
  run.agent_timeout = std::chrono::seconds(o.create.agent_timeout_s);
  run.keep_state = o.keep_state;
  run.network = PodGuestNetworkFactory();
  return shim::RunBundle(run);
}

// create + start; a container that was created but could not start is
// removed again, as runc does.
int RunDetached(const GlobalOptions& global, const RunOptions& o) {
  CreateContainer(global, o.create);
  try {
    StartContainer(global, o.create.id);
  } catch (...) {
    try {
      DestroyContainer(global, o.create.id);
    } catch (const std::exception&) {
      // the start's error is the one to report
    }
    throw;
  }
  return 0;
}

}  // namespace

Verb AddRunVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global) {
  auto o = std::make_shared<RunOptions>();
  CreateOptions& c = o->create;
  CLI::App* cmd = app.add_subcommand(
      "run", "Create and run a container from an OCI bundle inside a new microVM; exits with the "
             "container's exit status (with --detach: once it runs).");
  cmd->add_option("container-id", c.id, "the container's id")->required();
  cmd->add_option("--bundle,-b", c.bundle, "the bundle directory (config.json and rootfs)")
      ->capture_default_str();
  cmd->add_flag("--detach,-d", o->detach,
                "detach from the container: its keeper process holds it; see `hull create`");
  cmd->add_option("--pid-file", c.pid_file,
                  "with --detach: write the pid of the container's keeper process here");
  cmd->add_option("--console-socket", c.console_socket,
                  "with --detach: unix socket that receives the pty master (process.terminal)");
  cmd->add_option("--preserve-fds", c.preserve_fds,
                  "accepted for runc compatibility; only 0 works (fds cannot cross into the VM)");
  cmd->add_flag("--no-pivot", o->no_pivot, "accepted for runc compatibility (the guest decides)");
  cmd->add_flag("--no-new-keyring", o->no_new_keyring, "accepted for runc compatibility");
  cmd->add_flag("--keep-state", o->keep_state,
                "in the foreground: keep ROOT/ID (VMM log, rootfs image) afterwards");
  AddMicroVmOptions(cmd, c.vcpus, c.memory_mib, c.agent_timeout_s, c.vmm, c.kernel, c.initrd);
  return {cmd, [o, global] {
            if (!o->detach && (!o->create.console_socket.empty() || !o->create.pid_file.empty())) {
              ReportError(*global,
                          "run: --console-socket and --pid-file need --detach (-d); in the "
                          "foreground `hull run` itself waits for the container");
              return kExitUsage;
            }
            if (o->detach && o->keep_state) {
              ReportError(*global, "run: --keep-state is for the foreground; a detached "
                                   "container's state stays until `hull delete`");
              return kExitUsage;
            }
            return RunReportingErrors(*global, "run " + o->create.id, [&] {
              return o->detach ? RunDetached(*global, *o) : RunForeground(*global, *o);
            });
          }};
}

}  // namespace hull::cli
