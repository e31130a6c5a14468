// The `hull` program is one CLI11 app with one sub-command per verb. Each verb lives in its
// own file (verb_<name>.cc) and is registered from main.cc through an Add<Name>Verb function.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/global_options.h"

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

// The microVM's size and hull's own binaries, for `create`.
void AddMicroVmOptions(CLI::App* cmd, unsigned& vcpus, unsigned& memory_mib,
                       unsigned& agent_timeout_s, std::string& vmm, std::string& kernel,
                       std::string& initrd);
// runc's `features` document for hull.
nlohmann::json FeaturesJson();

}  // namespace hull::cli
