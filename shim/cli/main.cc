// hull: the runc-compatible OCI runtime CLI of hull, plus `hull check`.
#include <iostream>
#include <string>
#include <vector>

#include "cli/verb.h"

#ifndef HULL_VERSION
#error "HULL_VERSION must be defined by the build"
#endif

int main(int argc, char** argv) {
  CLI::App app{"hull: run containers in KVM microVMs (OCI runtime, runc-compatible verbs)", "hull"};
  app.set_version_flag("--version", "hull " HULL_VERSION);
  app.require_subcommand(1);
  auto global = hull::cli::AddGlobalOptions(app);
  std::vector<hull::cli::Verb> verbs;
  verbs.push_back(hull::cli::AddCheckVerb(app));
  verbs.push_back(hull::cli::AddRunVerb(app, global));
  verbs.push_back(hull::cli::AddSpecVerb(app, global));
  verbs.push_back(hull::cli::AddCreateVerb(app, global));
  verbs.push_back(hull::cli::AddStartVerb(app, global));
  verbs.push_back(hull::cli::AddStateVerb(app, global));
  verbs.push_back(hull::cli::AddListVerb(app, global));
  verbs.push_back(hull::cli::AddKillVerb(app, global));
  verbs.push_back(hull::cli::AddDeleteVerb(app, global));
  verbs.push_back(hull::cli::AddExecVerb(app, global));
  verbs.push_back(hull::cli::AddPsVerb(app, global));
  verbs.push_back(hull::cli::AddPauseVerb(app, global, /*pause=*/true));
  verbs.push_back(hull::cli::AddPauseVerb(app, global, /*pause=*/false));
  verbs.push_back(hull::cli::AddEventsVerb(app, global));
  verbs.push_back(hull::cli::AddFeaturesVerb(app));
  const auto is_verb = [&verbs](const std::string& name) {
    for (const auto& verb : verbs) {
      if (verb.command->get_name() == name) return true;
    }
    return false;
  };
  if (argc > 1 && argv[1][0] != '-' && !is_verb(argv[1])) {
    std::cerr << "hull: unknown command '" << argv[1] << "'; the commands are:";
    for (const auto& verb : verbs) std::cerr << ' ' << verb.command->get_name();
    std::cerr << " (see hull --help)\n";
    return hull::cli::kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message and usage
    return hull::cli::kExitUsage;
  }
  for (const auto& verb : verbs) {
    if (verb.command->parsed()) return verb.run();
  }
  return hull::cli::kExitUsage;  // unreachable: require_subcommand(1)
}
