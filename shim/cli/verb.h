// The `hull` program is one CLI11 app with one sub-command per verb. Each verb lives in its
// own file (verb_<name>.cc) and is registered from main.cc through an Add<Name>Verb function.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/global_options.h"
#include "sandbox/microvm.h"

namespace hull::cli {

struct Verb {
  CLI::App* command;         // the sub-command; parsed() tells whether it was chosen
  std::function<int()> run;  // runs the verb after parsing; returns the exit status
};

// Exit statuses shared by all verbs.
inline constexpr int kExitUsage = 2;

Verb AddCheckVerb(CLI::App& app);
Verb AddRunVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global);
Verb AddSpecVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global);
Verb AddCreateVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global);
Verb AddStartVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global);
Verb AddStateVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global);
Verb AddListVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global);
Verb AddKillVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global);
Verb AddDeleteVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global);
Verb AddExecVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global);
Verb AddPsVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global);
// `pause` when `pause` is true, else `resume`.
Verb AddPauseVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global, bool pause);
Verb AddEventsVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global);
Verb AddFeaturesVerb(CLI::App& app);

// What `create` (and `run --detach`) take.
struct CreateOptions {
  std::string id;
  std::string bundle = ".";
  std::string pid_file;
  std::string console_socket;
  unsigned preserve_fds = 0;
  unsigned vcpus = 1;
  unsigned memory_mib = shim::kDefaultGuestMemMib;  // the shim's default too
  unsigned agent_timeout_s = 60;
  std::string vmm, kernel, initrd;
};
// Boots the microVM, creates the container (not started) and its keeper,
// writes --pid-file. Throws SandboxError; nothing of the container remains then.
void CreateContainer(const GlobalOptions& global, const CreateOptions& options);
// Throws SandboxError when config.json names the host's own network namespace
// (docker run --network host), which a microVM cannot share.
void RefuseHostNetworkNamespace(const std::string& config_json);
// Lets a created container's program run (`start`). Throws SandboxError.
void StartContainer(const GlobalOptions& global, const std::string& id);
// Stops whatever of the container still runs and removes its state, network
// mirrors included (`delete --force` of a known container).
void DestroyContainer(const GlobalOptions& global, const std::string& id);

// The microVM's size and hull's own binaries, for `create`.
void AddMicroVmOptions(CLI::App* cmd, unsigned& vcpus, unsigned& memory_mib,
                       unsigned& agent_timeout_s, std::string& vmm, std::string& kernel,
                       std::string& initrd);
// runc's `features` document for hull.
nlohmann::json FeaturesJson();

}  // namespace hull::cli
