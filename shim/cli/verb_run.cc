// `hull run`: create and start a container from an OCI bundle in its own
// microVM, wait for it, and exit with its status (runc's `run`, foreground).
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/global_options.h"
#include "cli/verb.h"
#include "sandbox/bundle_runner.h"
#include "sandbox/sandbox_error.h"

namespace hull::cli {
namespace {

struct RunOptions {
  std::string id;
  std::string bundle = ".";
  std::string pid_file;
  std::string console_socket;
  bool detach = false;
  unsigned vcpus = 1;
  unsigned memory_mib = 256;
  unsigned agent_timeout_s = 60;
  bool keep_state = false;
  std::string vmm;
  std::string kernel;
  std::string initrd;
};

}  // namespace

Verb AddRunVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Create and run a container from an OCI bundle inside a new microVM; exits with the "
             "container's exit status.");
  cmd->add_option("container-id", o->id, "the container's id")->required();
  cmd->add_option("--bundle,-b", o->bundle, "the bundle directory (config.json and rootfs)")
      ->capture_default_str();
  cmd->add_option("--pid-file", o->pid_file, "write the VMM's process id here");
  cmd->add_option("--console-socket", o->console_socket,
                  "unix socket to receive the pty master (process.terminal)");
  cmd->add_flag("--detach,-d", o->detach, "detach from the container");
  cmd->add_option("--vcpus", o->vcpus, "vCPUs of the microVM")->capture_default_str()
      ->check(CLI::Range(1, 255));
  cmd->add_option("--memory", o->memory_mib, "memory of the microVM in MiB")->capture_default_str()
      ->check(CLI::Range(64, 1 << 20));
  cmd->add_option("--agent-timeout", o->agent_timeout_s,
                  "seconds to wait for the guest to boot and its agent to answer")
      ->capture_default_str();
  cmd->add_flag("--keep-state", o->keep_state, "keep ROOT/ID (VMM log, rootfs image) afterwards");
  cmd->add_option("--vmm", o->vmm, "hull-vmm binary (default: next to hull)");
  cmd->add_option("--kernel", o->kernel, "guest kernel (default: hull's, next to hull)");
  cmd->add_option("--initrd", o->initrd, "guest initramfs (default: hull's, next to hull)");
  return {cmd, [o, global] {
            if (o->detach || !o->console_socket.empty() || !o->pid_file.empty()) {
              ReportError(*global,
                          "run: --detach, --console-socket and --pid-file are for `hull create` + "
                          "`hull start` (a detached container); `hull run` runs in the foreground "
                          "without them");
              return kExitUsage;
            }
            shim::BundleRunOptions run;
            run.container_id = o->id;
            run.bundle = std::filesystem::absolute(o->bundle);
            run.state_root = global->root;
            run.runtime = shim::DiscoverRuntimePaths();
            if (!o->vmm.empty()) run.runtime.vmm_binary = o->vmm;
            if (!o->kernel.empty()) run.runtime.kernel = o->kernel;
            if (!o->initrd.empty()) run.runtime.initrd = o->initrd;
            run.vcpus = o->vcpus;
            run.mem_mib = o->memory_mib;
            run.agent_timeout = std::chrono::seconds(o->agent_timeout_s);
            run.keep_state = o->keep_state;
            try {
              return shim::RunBundle(run);
            } catch (const shim::SandboxError& e) {
              ReportError(*global, std::string("run ") + o->id + ": " + e.what());
              return 1;
            }
          }};
}

}  // namespace hull::cli
