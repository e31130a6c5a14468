// hull-cri: a small CRI client for hull's tests (Debian packages no crictl).
// Each sub-command is one RuntimeService call; configs are read as JSON in
// api.proto's shape and answers printed as JSON on stdout, errors on stderr
// with exit status 1 (2 for a usage error).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "cri_error.h"
#include "cri_json.h"
#include "cri_runtime.h"

namespace {

namespace v1 = runtime::v1;
using hull::cri::CriRuntime;
using nlohmann::json;

struct Options {
  std::string endpoint;
  int timeout_s = 120;
  std::string get;  // a JSON pointer: print only that value
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  // The answer, or with --get one value of it (a string without quotes), so
  // that shell tests need no JSON tool.
  auto Print = [&options](const json& value) {
    if (options.get.empty()) {
      std::cout << value.dump(2) << '\n';
      return;
    }
    json::json_pointer pointer;
    try {
      pointer = json::json_pointer(options.get);
    } catch (const json::exception& e) {
      throw hull::cri::CriError("--get " + options.get + " is not a JSON pointer (like /status/network/ip): " + e.what());
    }
    if (!value.contains(pointer)) {
      throw hull::cri::CriError("the answer has no " + options.get + ": " + value.dump());
    }
    const json& v = value.at(pointer);
    if (v.is_string()) {
      std::cout << v.get<std::string>();  // as it is: a file's text compares byte for byte
    } else {
      std::cout << v.dump() << '\n';
    }
  };

  CLI::App app{"hull-cri: CRI (runtime.v1) client for tests; JSON in, JSON out", "hull-cri"};
  app.require_subcommand(1);
  if (const char* env = std::getenv("CONTAINER_RUNTIME_ENDPOINT")) options.endpoint = env;
  app.add_option("--endpoint,-r", options.endpoint,
                 "containerd's gRPC socket (unix:///path or /path); default $CONTAINER_RUNTIME_ENDPOINT");
  app.add_option("--get", options.get, "print only the value at this JSON pointer, e.g. /status/network/ip");
  app.add_option("--timeout", options.timeout_s, "seconds each call may take")->check(CLI::Range(1, 3600));

  std::function<void(CriRuntime&)> action;
  auto verb = [&](const std::string& name, const std::string& help) { return app.add_subcommand(name, help); };

  verb("version", "the runtime's name and versions")->callback([&] {
    action = [&](CriRuntime& cri) { Print(hull::cri::ToJson(cri.Version())); };
  });

  std::string pod_config, container_config, runtime_handler = "hull", id;
  auto* runp = verb("runp", "RunPodSandbox: prints {\"pod_sandbox_id\": ...}");
  runp->add_option("pod-config", pod_config, "PodSandboxConfig as JSON (file, or - for stdin)")->required();
  runp->add_option("--runtime", runtime_handler, "the runtime handler (RuntimeClass) to ask for");
  runp->callback([&] {
    action = [&](CriRuntime& cri) {
      v1::RunPodSandboxRequest request;
      hull::cri::ParseMessage(hull::cri::ReadInput(pod_config), pod_config, *request.mutable_config());
      request.set_runtime_handler(runtime_handler);
      Print({{"pod_sandbox_id", cri.RunPodSandbox(request).pod_sandbox_id()}});
    };
  });

  auto* inspectp = verb("inspectp", "PodSandboxStatus (state, network IP, ...)");
  inspectp->add_option("pod-id", id)->required();
  inspectp->callback([&] { action = [&](CriRuntime& cri) { Print(hull::cri::ToJson(cri.PodSandboxStatus(id))); }; });

  auto* stopp = verb("stopp", "StopPodSandbox");
  stopp->add_option("pod-id", id)->required();
  stopp->callback([&] { action = [&](CriRuntime& cri) { cri.StopPodSandbox(id); Print({{"stopped", id}}); }; });

  auto* rmp = verb("rmp", "RemovePodSandbox");
  rmp->add_option("pod-id", id)->required();
  rmp->callback([&] { action = [&](CriRuntime& cri) { cri.RemovePodSandbox(id); Print({{"removed", id}}); }; });

  auto* create = verb("create", "CreateContainer in a pod: prints {\"container_id\": ...}");
  create->add_option("pod-id", id)->required();
  create->add_option("container-config", container_config, "ContainerConfig as JSON (file or -)")->required();
  create->add_option("pod-config", pod_config, "the pod's PodSandboxConfig as JSON (file)")->required();
  create->callback([&] {
    action = [&](CriRuntime& cri) {
      v1::CreateContainerRequest request;
      request.set_pod_sandbox_id(id);
      hull::cri::ParseMessage(hull::cri::ReadInput(container_config), container_config, *request.mutable_config());
      hull::cri::ParseMessage(hull::cri::ReadInput(pod_config), pod_config, *request.mutable_sandbox_config());
      Print({{"container_id", cri.CreateContainer(request).container_id()}});
    };
  });

  auto* start = verb("start", "StartContainer");
  start->add_option("container-id", id)->required();
  start->callback([&] { action = [&](CriRuntime& cri) { cri.StartContainer(id); Print({{"started", id}}); }; });

  int64_t stop_timeout = 10;
  auto* stop = verb("stop", "StopContainer");
  stop->add_option("container-id", id)->required();
  stop->add_option("--grace", stop_timeout, "seconds before SIGKILL");
  stop->callback([&] { action = [&](CriRuntime& cri) { cri.StopContainer(id, stop_timeout); Print({{"stopped", id}}); }; });

  auto* rm = verb("rm", "RemoveContainer");
  rm->add_option("container-id", id)->required();
  rm->callback([&] { action = [&](CriRuntime& cri) { cri.RemoveContainer(id); Print({{"removed", id}}); }; });

  auto* inspect = verb("inspect", "ContainerStatus");
  inspect->add_option("container-id", id)->required();
  inspect->callback([&] { action = [&](CriRuntime& cri) { Print(hull::cri::ToJson(cri.ContainerStatus(id))); }; });

  std::vector<std::string> cmd;
  int64_t exec_timeout = 60;
  bool exec_raw = false;
  int exec_status = 0;
  auto* exec = verb("exec-sync", "ExecSync: prints {\"exit_code\", \"stdout\", \"stderr\"}");
  exec->add_option("--cmd-timeout", exec_timeout, "seconds the command may run (0: no limit)");
  exec->add_flag("--raw", exec_raw,
                 "write the command's stdout and stderr as they are and exit with its exit code, as crictl exec");
  exec->add_option("container-id", id)->required();
  exec->add_option("cmd", cmd, "the command and its arguments (after --)")->required();
  exec->callback([&] {
    action = [&](CriRuntime& cri) {
      v1::ExecSyncRequest request;
      request.set_container_id(id);
      for (const auto& arg : cmd) request.add_cmd(arg);
      request.set_timeout(exec_timeout);
      const v1::ExecSyncResponse response = cri.ExecSync(request);
      if (!exec_raw) {
        Print(hull::cri::ExecSyncResultJson(response));
        return;
      }
      std::cout << response.stdout() << std::flush;
      std::cerr << response.stderr() << std::flush;
      exec_status = response.exit_code();
    };
  });

  auto* stats = verb("stats", "ContainerStats");
  stats->add_option("container-id", id)->required();
  stats->callback([&] { action = [&](CriRuntime& cri) { Print(hull::cri::ToJson(cri.ContainerStats(id))); }; });

  std::string resources;
  auto* update = verb("update", "UpdateContainerResources with LinuxContainerResources as JSON");
  update->add_option("container-id", id)->required();
  update->add_option("resources", resources,
                     "LinuxContainerResources as JSON (file or -), e.g. {\"memory_limit_in_bytes\": 33554432}")
      ->required();
  update->callback([&] {
    action = [&](CriRuntime& cri) {
      v1::UpdateContainerResourcesRequest request;
      request.set_container_id(id);
      hull::cri::ParseMessage(hull::cri::ReadInput(resources), resources, *request.mutable_linux());
      cri.UpdateContainerResources(request);
      Print({{"updated", id}});
    };
  });

  verb("list", "ListPodSandbox and ListContainers: prints {\"pods\": [...], \"containers\": [...]}")->callback([&] {
    action = [&](CriRuntime& cri) {
      json pods = hull::cri::ToJson(cri.ListPodSandbox()).value("items", json::array());
      json containers = hull::cri::ToJson(cri.ListContainers()).value("containers", json::array());
      Print({{"pods", pods}, {"containers", containers}});
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (options.endpoint.empty()) {
    std::cerr << "hull-cri: no endpoint: pass --endpoint unix:///run/containerd/containerd.sock or set "
                 "CONTAINER_RUNTIME_ENDPOINT\n";
    return 2;
  }
  try {
    CriRuntime cri(options.endpoint, std::chrono::seconds(options.timeout_s));
    action(cri);
    if (exec_status != 0) return exec_status > 255 || exec_status < 0 ? 255 : exec_status;
  } catch (const hull::cri::CriError& e) {
    std::cerr << "hull-cri: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
