// `hull check`: whether /dev/kvm is usable for microVMs here, and what to do when not.
#include <iostream>
#include <memory>

#include "check/gather.h"
#include "check/render.h"
#include "check/verdict.h"
#include "cli/verb.h"

namespace hull::cli {
namespace {

struct CheckOptions {
  bool json = false;
  bool quiet = false;
  check::GatherOptions gather;
};

}  // namespace

Verb AddCheckVerb(CLI::App& app) {
  auto options = std::make_shared<CheckOptions>();
  CLI::App* cmd = app.add_subcommand("check", "Tell whether this host can run microVMs (is /dev/kvm usable; if not, why)");
  cmd->footer(
      "Checks: /dev/kvm present, opens read-write, API 12, the KVM capabilities hull uses, a VM can be created "
      "(with a vGICv3 on arm64), real hardware virtualization (a timed ring-0 loop in a probe VM; kvm_pvm's "
      "emulation fails), plus vsock and tap for networking (optional).\n"
      "Exit status: 0 KVM usable; 1 not (each FAIL line says what to do, usually tools/nested-run); 2 bad usage.");
  auto* json = cmd->add_flag("--json", options->json, "print the result as JSON");
  cmd->add_flag("--quiet,-q", options->quiet, "print nothing; only the exit status tells")->excludes(json);
  cmd->add_option("--device", options->gather.kvm_path, "the KVM device to check")
      ->capture_default_str();
  cmd->add_flag("!--no-probe", options->gather.run_ring0_probe,
                "skip the timed ring-0 loop in a probe VM (the kvm_pvm detection then relies on "
                "/sys/module and the CPU flags)");
  return {cmd, [options] {
            const check::Report report = check::Evaluate(check::Gather(options->gather));
            if (options->json) {
              std::cout << check::RenderJson(report);
            } else if (!options->quiet) {
              std::cout << check::RenderText(report);
            }
            return report.kvm_usable ? 0 : 1;
          }};
}

}  // namespace hull::cli
