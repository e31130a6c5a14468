// The `hull` program is one CLI11 app with one sub-command per verb. Each verb lives in its
// own file (verb_<name>.cc) and is registered from main.cc through an Add<Name>Verb function.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>

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

}  // namespace hull::cli
