// The verbs that only look: state, list, ps, events.
#include <signal.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/container_control.h"
#include "cli/verb.h"
#include "cli/verb_util.h"
#include "sandbox/sandbox_error.h"

namespace hull::cli {
namespace {
using shim::SandboxError;

// runc's events "stats" data (runc/types/events.go), from the guest cgroup's numbers.
nlohmann::json StatsJson(const shim::agentpb::StatsContainerResponse& s) {
  nlohmann::json raw = nlohmann::json::object();
  for (const auto& [key, value] : s.memory().stat()) raw[key] = value;
  nlohmann::json networks = nlohmann::json::array();
  for (const auto& n : s.network()) {
    networks.push_back({{"name", n.name()},
                        {"rx_bytes", n.rx_bytes()},
                        {"rx_packets", n.rx_packets()},
                        {"rx_errors", n.rx_errors()},
                        {"rx_dropped", n.rx_dropped()},
                        {"tx_bytes", n.tx_bytes()},
                        {"tx_packets", n.tx_packets()},
                        {"tx_errors", n.tx_errors()},
                        {"tx_dropped", n.tx_dropped()}});
  }
  nlohmann::json io = nlohmann::json::array();
  for (const auto& d : s.io()) {
    io.push_back({{"major", d.major()}, {"minor", d.minor()}, {"op", "Read"}, {"value", d.read_bytes()}});
    io.push_back({{"major", d.major()}, {"minor", d.minor()}, {"op", "Write"}, {"value", d.write_bytes()}});
  }
  constexpr uint64_t kNsPerUs = 1000;
  return {{"cpu",
           {{"usage",
             {{"total", s.cpu().usage_usec() * kNsPerUs},
              {"kernel", s.cpu().system_usec() * kNsPerUs},
              {"user", s.cpu().user_usec() * kNsPerUs}}},
            {"throttling",
             {{"periods", s.cpu().nr_periods()},
              {"throttledPeriods", s.cpu().nr_throttled()},
              {"throttledTime", s.cpu().throttled_usec() * kNsPerUs}}}}},
          {"memory",
           {{"usage", {{"usage", s.memory().usage_bytes()}, {"limit", s.memory().limit_bytes()}}},
            {"swap", {{"usage", s.memory().swap_usage_bytes()}}},
            {"raw", raw}}},
          {"pids", {{"current", s.pids().current()}, {"limit", s.pids().limit()}}},
          {"blkio", {{"ioServiceBytesRecursive", io}}},
          {"network_interfaces", networks}};
}

}  // namespace

Verb AddStateVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global) {
  auto id = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("state", "Print the container's state as JSON (runc's shape).");
  cmd->add_option("container-id", *id, "the container's id")->required();
  return {cmd, [id, global] {
            return RunReportingErrors(*global, "state " + *id, [&] {
              std::cout << shim::RuncStateJson(StoreOf(*global).Load(*id)).dump(2) << "\n";
              return 0;
            });
          }};
}

Verb AddListVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global) {
  struct Options {
    std::string format = "table";
    bool quiet = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("list", "List the containers under --root.");
  cmd->add_option("--format,-f", o->format, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->add_flag("--quiet,-q", o->quiet, "print only the ids");
  return {cmd, [o, global] {
            return RunReportingErrors(*global, "list", [&] {
              const auto store = StoreOf(*global);
              std::vector<nlohmann::json> states;
              for (const auto& id : store.List()) {
                try {
                  states.push_back(shim::RuncStateJson(store.Load(id)));
                } catch (const SandboxError&) {
                  // deleted while we listed
                }
              }
              if (o->quiet) {
                for (const auto& s : states) std::cout << s["id"].get<std::string>() << "\n";
              } else if (o->format == "json") {
                std::cout << nlohmann::json(states).dump() << "\n";
              } else {
                std::cout << RenderListTable(states);
              }
              return 0;
            });
          }};
}

Verb AddPsVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global) {
  struct Options {
    std::string id;
    std::string format = "table";
    std::vector<std::string> ps_args;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "ps", "List the container's processes. The pids are the guest's (the processes live in the "
            "microVM, not on this host), unlike runc's host pids.");
  cmd->add_option("container-id", o->id, "the container's id")->required();
  cmd->add_option("--format,-f", o->format, "table or json (an array of pids)")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->add_option("ps-args", o->ps_args, "accepted for runc compatibility; ignored");
  return {cmd, [o, global] {
            return RunReportingErrors(*global, "ps " + o->id, [&] {
              const auto store = StoreOf(*global);
              const auto record = store.Load(o->id);
              const std::string status = shim::EffectiveStatus(record);
              if (status == "stopped") throw SandboxError("container not running", 9);
              const auto list = AgentOf(store, o->id)->ListProcesses(o->id);
              if (o->format == "json") {
                nlohmann::json pids = nlohmann::json::array();
                for (const auto& p : list.processes()) pids.push_back(p.pid());
                std::cout << pids.dump() << "\n";
              } else {
                std::printf("%-8s %-8s %s\n", "PID", "PPID", "CMD");
                for (const auto& p : list.processes()) {
                  std::printf("%-8u %-8u %s\n", p.pid(), p.ppid(), p.command().c_str());
                }
              }
              return 0;
            });
          }};
}

Verb AddEventsVerb(CLI::App& app, std::shared_ptr<GlobalOptions> global) {
  struct Options {
    std::string id;
    bool stats = false;
    unsigned interval_s = 5;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "events", "Print the container's resource usage as runc's event JSON: once with --stats, "
                "else every --interval until it stops.");
  cmd->add_option("container-id", o->id, "the container's id")->required();
  cmd->add_flag("--stats", o->stats, "print one stats event and exit");
  cmd->add_option("--interval", o->interval_s, "seconds between stats events")
      ->capture_default_str()
      ->transform([](std::string s) {  // runc takes Go durations: 5s
        if (!s.empty() && s.back() == 's') s.pop_back();
        return s;
      })
      ->check(CLI::Range(1, 86400));
  return {cmd, [o, global] {
            return RunReportingErrors(*global, "events " + o->id, [&] {
              const auto store = StoreOf(*global);
              if (shim::EffectiveStatus(store.Load(o->id)) == "stopped") {
                throw SandboxError("container not running", 9);
              }
              auto agent = AgentOf(store, o->id);
              while (true) {
                const std::string status = shim::EffectiveStatus(store.Load(o->id));
                if (status == "stopped") {
                  if (o->stats) throw SandboxError("container not running", 9);
                  return 0;
                }
                nlohmann::json event = {{"type", "stats"},
                                        {"id", o->id},
                                        {"data", StatsJson(agent->StatsContainer(o->id))}};
                std::cout << event.dump() << std::endl;
                if (o->stats) return 0;
                std::this_thread::sleep_for(std::chrono::seconds(o->interval_s));
              }
            });
          }};
}

}  // namespace hull::cli
