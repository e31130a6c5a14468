// `hull create`: boot the container's microVM and create the container in it
// without starting its program (runc's two-phase create + start). A keeper
// process holds the container's stdio and is the pid that --pid-file names;
// it exits with the container's status (see sandbox/container_keeper.h).
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>

#include "cli/bundle_config.h"
#include "cli/container_control.h"
#include "cli/pod_guest_network.h"
#include "cli/verb.h"
#include "cli/verb_util.h"
#include "sandbox/container_keeper.h"
#include "sandbox/sandbox_error.h"
#include "sandbox/vm_socket_dir.h"
#include "vm_sandbox/pod_network.h"

namespace hull::cli {

void AddMicroVmOptions(CLI::App* cmd, unsigned& vcpus, unsigned& memory_mib,
                       unsigned& agent_timeout_s, std::string& vmm, std::string& kernel,
                       std::string& initrd) {
  cmd->add_option("--vcpus", vcpus, "vCPUs of the microVM")->capture_default_str()
      ->check(CLI::Range(1, 255));
  cmd->add_option("--memory", memory_mib, "memory of the microVM in MiB")->capture_default_str()
      ->check(CLI::Range(64, 1 << 20));
  cmd->add_option("--agent-timeout", agent_timeout_s,
                  "seconds to wait for the guest to boot and its agent to answer")
      ->capture_default_str();
  cmd->add_option("--vmm", vmm, "hull-vmm binary (default: next to hull)");
  cmd->add_option("--kernel", kernel, "guest kernel (default: hull's, next to hull)");
  cmd->add_option("--initrd", initrd, "guest initramfs (default: hull's, next to hull)");
}

void RefuseHostNetworkNamespace(const std::string& config_json) {
  const auto netns = vm_sandbox::NetworkNamespacePath(config_json);
  if (!netns) return;
  struct stat spec_ns {}, host_ns {};
  if (::stat(netns->c_str(), &spec_ns) != 0 || ::stat("/proc/self/ns/net", &host_ns) != 0) return;
  if (spec_ns.st_dev == host_ns.st_dev && spec_ns.st_ino == host_ns.st_ino) {
    throw shim::SandboxError(
        "config.json joins the host's network namespace (" + *netns +
        ", what `docker run --network host` asks for): hull does not support host networking, since a "
        "microVM has its own kernel and network stack and cannot share the host's (Kata refuses it too). "
        "Use the default bridge network (publish ports with -p) or --network none");
  }
}

void CreateContainer(const GlobalOptions& global, const CreateOptions& o) {
  if (o.preserve_fds != 0) {
    throw shim::SandboxError("--preserve-fds " + std::to_string(o.preserve_fds) +
                             ": host fds cannot be passed into a microVM; use 0");
  }
  const BundleConfig bundle = LoadBundleConfig(o.bundle);
  RefuseHostNetworkNamespace(bundle.config_text);
  shim::CreateKeeperOptions keeper;
  keeper.record.id = o.id;
  keeper.record.bundle = bundle.bundle.string();
  keeper.record.rootfs = bundle.rootfs.string();
  keeper.record.created = shim::NowRfc3339Nano();
  keeper.record.owner = shim::UserName(::geteuid());
  keeper.record.annotations = bundle.annotations;
  keeper.record.terminal = bundle.terminal;
  keeper.root = global.root;
  keeper.config_text = bundle.config_text;
  keeper.runtime = shim::DiscoverRuntimePaths();
  if (!o.vmm.empty()) keeper.runtime.vmm_binary = o.vmm;
  if (!o.kernel.empty()) keeper.runtime.kernel = o.kernel;
  if (!o.initrd.empty()) keeper.runtime.initrd = o.initrd;
  keeper.vcpus = o.vcpus;
  keeper.mem_mib = o.memory_mib;
  keeper.agent_timeout = std::chrono::seconds(o.agent_timeout_s);
  keeper.console_socket = o.console_socket;
  keeper.network = PodGuestNetworkFactory();

  const shim::ContainerStore store = StoreOf(global);
  store.Reserve(o.id);
  pid_t pid = -1;
  try {
    pid = shim::SpawnCreateKeeper(keeper);
    if (!o.pid_file.empty()) WritePidFile(o.pid_file, pid);
  } catch (...) {
    // Nothing of this container may remain: the keeper (if it got as far
    // as running) takes its VM and network mirrors with it.
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      shim::CleanUpLeftoverVmmJail(store.Dir(o.id));
      shim::RemoveVmSocketDir(store.Dir(o.id));
      try {
        RemoveRecordedMirrors(store.Load(o.id));
      } catch (const shim::SandboxError&) {
      }
    }
    std::error_code ec;
    std::filesystem::remove_all(store.Dir(o.id), ec);
    throw;
  }
}

Verb AddCreateVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global) {
  struct Flags {
    CreateOptions create;
    bool no_pivot = false;
    bool no_new_keyring = false;
  };
  auto f = std::make_shared<Flags>();
  CreateOptions& o = f->create;
  CLI::App* cmd = app.add_subcommand(
      "create", "Create a container from an OCI bundle in a new microVM, without starting its "
                "program (then `hull start`).");
  cmd->add_option("container-id", o.id, "the container's id")->required();
  cmd->add_option("--bundle,-b", o.bundle, "the bundle directory (config.json and rootfs)")
      ->capture_default_str();
  cmd->add_option("--pid-file", o.pid_file,
                  "write the pid of the container's host keeper process here (it exits with the "
                  "container's status)");
  cmd->add_option("--console-socket", o.console_socket,
                  "unix socket that receives the pty master when process.terminal is true");
  cmd->add_option("--preserve-fds", o.preserve_fds,
                  "accepted for runc compatibility; only 0 works (fds cannot cross into the VM)");
  cmd->add_flag("--no-pivot", f->no_pivot, "accepted for runc compatibility (the guest decides)");
  cmd->add_flag("--no-new-keyring", f->no_new_keyring, "accepted for runc compatibility");
  AddMicroVmOptions(cmd, o.vcpus, o.memory_mib, o.agent_timeout_s, o.vmm, o.kernel, o.initrd);
  return {cmd, [f, global] {
            return RunReportingErrors(*global, "create " + f->create.id, [&] {
              CreateContainer(*global, f->create);
              return 0;
            });
          }};
}

}  // namespace hull::cli
