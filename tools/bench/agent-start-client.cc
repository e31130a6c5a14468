// agent-start-client: the timed half of tools/bench/agent-start (runs in the L1).
//   agent-start-client agent SOCKET CONFIG ROOTFS N
//       N x (CreateContainer + StartContainer + WaitProcess + RemoveContainer) of
//       CONFIG's process through hull-agent on unix SOCKET: "RUN agent <ms>" per run
//   agent-start-client exec NAME N -- CMD ARGS...
//       N x run CMD ("{}" in ARGS becomes a fresh container id) to its exit:
//       "RUN NAME <ms>" per run (for `crun run` / `runc run` on the same bundle)
//   agent-start-client hold SOCKET CONFIG ROOTFS AGENT_PID COUNT
//       "RSS idle <KiB>", then COUNT containers running `sleep`, "RSS busy <KiB>"
//       (VmRSS of AGENT_PID), then removes them
// Exit 0 when every run succeeded (exit status 0), 1 otherwise.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hull/agent/v1/agent.grpc.pb.h"

namespace {

namespace pb = hull::agent::v1;
using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::unique_ptr<pb::Agent::Stub> Dial(const std::string& socket) {
  auto channel = grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(30)))
    throw std::runtime_error("no agent on " + socket);
  return pb::Agent::NewStub(channel);
}

void Check(const grpc::Status& s, const char* call, const std::string& id) {
  if (!s.ok()) throw std::runtime_error(std::string(call) + " " + id + ": " + s.error_message());
}

void Create(pb::Agent::Stub& agent, const std::string& id, const std::string& config,
            const std::string& rootfs) {
  grpc::ClientContext ctx;
  pb::CreateContainerRequest req;
  req.set_container_id(id);
  req.set_oci_config_json(config);
  req.mutable_rootfs()->set_directory(rootfs);
  pb::CreateContainerResponse resp;
  Check(agent.CreateContainer(&ctx, req, &resp), "CreateContainer", id);
}

void Start(pb::Agent::Stub& agent, const std::string& id) {
  grpc::ClientContext ctx;
  pb::ContainerRequest req;
  req.set_container_id(id);
  pb::Empty e;
  Check(agent.StartContainer(&ctx, req, &e), "StartContainer", id);
}

int Wait(pb::Agent::Stub& agent, const std::string& id) {
  grpc::ClientContext ctx;
  pb::ProcessRequest req;
  req.set_container_id(id);
  pb::WaitProcessResponse resp;
  Check(agent.WaitProcess(&ctx, req, &resp), "WaitProcess", id);
  return resp.exit_status();
}

void Remove(pb::Agent::Stub& agent, const std::string& id) {
  grpc::ClientContext ctx;
  pb::RemoveContainerRequest req;
  req.set_container_id(id);
  req.set_force(true);
  pb::Empty e;
  Check(agent.RemoveContainer(&ctx, req, &e), "RemoveContainer", id);
}

long RssKib(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

int RunAgent(char** argv) {
  auto agent = Dial(argv[0]);
  const std::string config = ReadFile(argv[1]), rootfs = argv[2];
  const int n = std::stoi(argv[3]);
  int failed = 0;
  for (int i = 0; i < n; ++i) {
    const std::string id = "agent-" + std::to_string(::getpid()) + "-" + std::to_string(i);
    const auto t0 = Clock::now();
    Create(*agent, id, config, rootfs);
    Start(*agent, id);
    const int status = Wait(*agent, id);
    Remove(*agent, id);
    const double ms = MsSince(t0);
    if (status != 0) {
      std::fprintf(stderr, "agent-start-client: %s exited %d\n", id.c_str(), status);
      ++failed;
      continue;
    }
    std::printf("RUN agent %.2f\n", ms);
  }
  return failed ? 1 : 0;
}

int RunExec(const std::string& name, int n, char** cmd) {
  int failed = 0;
  for (int i = 0; i < n; ++i) {
    const std::string id = name + "-" + std::to_string(::getpid()) + "-" + std::to_string(i);
    std::vector<std::string> args;
    for (char** a = cmd; *a; ++a) args.push_back(std::strcmp(*a, "{}") == 0 ? id : *a);
    std::vector<char*> argp;
    for (auto& a : args) argp.push_back(a.data());
    argp.push_back(nullptr);
    const auto t0 = Clock::now();
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int null = ::open("/dev/null", O_RDWR);
      const int log = ::open("/tmp/agent-start-exec.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(null, 0);
      ::dup2(log, 1);
      ::dup2(log, 2);
      ::execvp(argp[0], argp.data());
      ::_exit(127);
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    const double ms = MsSince(t0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      std::fprintf(stderr, "agent-start-client: %s run %d failed (status %d):\n%s", name.c_str(), i, st,
                   ReadFile("/tmp/agent-start-exec.log").c_str());
      ++failed;
      continue;
    }
    std::printf("RUN %s %.2f\n", name.c_str(), ms);
  }
  return failed ? 1 : 0;
}

int RunHold(char** argv) {
  auto agent = Dial(argv[0]);
  nlohmann::json spec = nlohmann::json::parse(ReadFile(argv[1]));
  spec["process"]["args"] = {"sleep", "100000"};
  const std::string config = spec.dump(), rootfs = argv[2], pid = argv[3];
  const int count = std::stoi(argv[4]);
  std::printf("RSS idle %ld\n", RssKib(pid));
  std::vector<std::string> ids;
  for (int i = 0; i < count; ++i) {
    ids.push_back("hold-" + std::to_string(i));
    Create(*agent, ids.back(), config, rootfs);
    Start(*agent, ids.back());
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  std::printf("RSS busy %ld\n", RssKib(pid));
  for (const auto& id : ids) Remove(*agent, id);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "agent" && argc == 6) return RunAgent(argv + 2);
    if (mode == "exec" && argc > 5 && std::strcmp(argv[4], "--") == 0)
      return RunExec(argv[2], std::stoi(argv[3]), argv + 5);
    if (mode == "hold" && argc == 7) return RunHold(argv + 2);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "agent-start-client: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: agent-start-client agent SOCKET CONFIG ROOTFS N |\n"
               "       agent-start-client exec NAME N -- CMD ARGS... |\n"
               "       agent-start-client hold SOCKET CONFIG ROOTFS AGENT_PID COUNT\n");
  return 2;
}
