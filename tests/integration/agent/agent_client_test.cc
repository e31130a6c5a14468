// hull-agent as a program on a unix socket, driven through its gRPC API, and
// compared with runc on the same bundle. Root, real namespaces; label "integration".
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "hull/agent/v1/agent.grpc.pb.h"
#include "test_bundle.h"

namespace {

namespace pb = hull::agent::v1;
using hull::testing::default_spec;
using nlohmann::json;

struct Output {
  int exit = -1;
  std::string out, err;
};

class AgentProcess {
 public:
  explicit AgentProcess(const std::string& dir) : socket_(dir + "/agent.sock") {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl(HULL_AGENT_BINARY, "hull-agent", "--listen", ("unix:" + socket_).c_str(),
              "--state-dir", (dir + "/state").c_str(), nullptr);
      ::_exit(127);
    }
    for (int i = 0; i < 500 && !std::filesystem::exists(socket_); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    channel_ = grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials());
    // The socket file appears at bind(), a moment before listen().
    channel_->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5));
    stub_ = pb::Agent::NewStub(channel_);
  }
  ~AgentProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pb::Agent::Stub& stub() { return *stub_; }
  pid_t pid() const { return pid_; }
  // Waits up to `ms` for the agent to exit; its exit code or -1.
  int wait_exit(int ms) {
    for (int i = 0; i < ms / 10; ++i) {
      int st;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }
  uint64_t rss_kib() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(in, line);)
      if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
    return 0;
  }

 private:
  std::string socket_;
  pid_t pid_ = -1;
  bool exited_ = false;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::Agent::Stub> stub_;
};

std::string read_stream(pb::Agent::Stub& stub, const std::string& id, const std::string& exec,
                        bool err) {
  grpc::ClientContext ctx;
  pb::ProcessRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec);
  auto reader = err ? stub.ReadStderr(&ctx, req) : stub.ReadStdout(&ctx, req);
  std::string out;
  pb::OutputChunk chunk;
  while (reader->Read(&chunk)) out += chunk.data();
  reader->Finish();
  return out;
}

class AgentGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = hull::testing::why_no_busybox();
    if (!why.empty()) GTEST_SKIP() << why;
    rootfs_ = hull::testing::make_busybox_rootfs(dir_.path());
    agent_ = std::make_unique<AgentProcess>(dir_.path());
  }

  grpc::Status create(const std::string& id, const json& spec) {
    grpc::ClientContext ctx;
    pb::CreateContainerRequest req;
    req.set_container_id(id);
    req.set_oci_config_json(spec.dump());
    req.mutable_rootfs()->set_directory(rootfs_);
    pb::CreateContainerResponse resp;
    return agent_->stub().CreateContainer(&ctx, req, &resp);
  }

  grpc::Status simple(grpc::Status (pb::Agent::Stub::*rpc)(grpc::ClientContext*,
                                                           const pb::ContainerRequest&, pb::Empty*),
                      const std::string& id) {
    grpc::ClientContext ctx;
    pb::ContainerRequest req;
    req.set_container_id(id);
    pb::Empty e;
    return (agent_->stub().*rpc)(&ctx, req, &e);
  }

  grpc::Status remove(const std::string& id) {
    grpc::ClientContext ctx;
    pb::RemoveContainerRequest req;
    req.set_container_id(id);
    pb::Empty e;
    return agent_->stub().RemoveContainer(&ctx, req, &e);
  }

  int wait(const std::string& id, const std::string& exec = "") {
    grpc::ClientContext ctx;
    pb::ProcessRequest req;
    req.set_container_id(id);
    req.set_exec_id(exec);
    pb::WaitProcessResponse resp;
    grpc::Status s = agent_->stub().WaitProcess(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.exit_status();
  }

  void close_stdin(const std::string& id, const std::string& exec = "") {
    grpc::ClientContext ctx;
    pb::ProcessRequest req;
    req.set_container_id(id);
    req.set_exec_id(exec);
    pb::Empty e;
    ASSERT_TRUE(agent_->stub().CloseStdin(&ctx, req, &e).ok());
  }

  // Create, read both streams, start, wait, remove.
  Output run(const std::string& id, const json& spec) {
    Output o;
    grpc::Status s = create(id, spec);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!s.ok()) return o;
    auto out =
        std::async(std::launch::async, [&] { return read_stream(agent_->stub(), id, "", false); });
    auto err =
        std::async(std::launch::async, [&] { return read_stream(agent_->stub(), id, "", true); });
    close_stdin(id);
    s = simple(&pb::Agent::Stub::StartContainer, id);
    EXPECT_TRUE(s.ok()) << s.error_message();
    o.exit = wait(id);
    o.out = out.get();
    o.err = err.get();
    EXPECT_TRUE(remove(id).ok());
    return o;
  }

  // The same bundle under runc; nullopt when runc is not installed.
  std::optional<Output> run_runc(const std::string& id, json spec) {
    if (!std::filesystem::exists("/usr/sbin/runc") && !std::filesystem::exists("/usr/bin/runc"))
      return std::nullopt;
    std::string bundle = dir_.path() + "/bundle-" + id;
    std::filesystem::create_directories(bundle);
    spec["root"]["path"] = rootfs_;
    std::ofstream(bundle + "/config.json") << spec.dump();
    Output o;
    o.out = hull::testing::run_command(
        {"runc", "--root", dir_.path() + "/runc-state", "run", "--bundle", bundle, id}, &o.exit);
    return o;
  }

  hull::testing::TempDir dir_;
  std::string rootfs_;
  std::unique_ptr<AgentProcess> agent_;
};

TEST_F(AgentGrpcTest, HealthAndVersion) {
  grpc::ClientContext c1, c2;
  pb::HealthResponse h;
  ASSERT_TRUE(agent_->stub().Health(&c1, pb::HealthRequest(), &h).ok());
  EXPECT_EQ(h.status(), pb::HealthResponse::SERVING);
  pb::VersionResponse v;
  ASSERT_TRUE(agent_->stub().Version(&c2, pb::VersionRequest(), &v).ok());
  EXPECT_EQ(v.api_version(), 1u);
  EXPECT_FALSE(v.agent_version().empty());
}

TEST_F(AgentGrpcTest, SameViewAsRunc) {
  // What the process sees of itself; cgroup paths and pids of other things differ by design.
  json spec = default_spec(
      {"sh", "-c",
       "id; hostname; grep -E '^(CapEff|CapBnd|CapPrm|NoNewPrivs|Seccomp):' /proc/self/status; "
       "ulimit -n; ulimit -Hn; echo $$; cat /proc/self/mountinfo | awk '{print $5, $6}' | "
       "sed 's/,relatime//' | sort; ls /dev | sort | tr '\\n' ' '; exit 5"});
  spec["hostname"] = "same-as-runc";
  Output ours = run("view", spec);
  EXPECT_EQ(ours.exit, 5) << ours.err;
  auto theirs = run_runc("view-runc", spec);
  if (!theirs) GTEST_SKIP() << "runc is not installed: only our side ran";
  EXPECT_EQ(theirs->exit, 5);
  EXPECT_EQ(ours.out, theirs->out);
}

TEST_F(AgentGrpcTest, SameViewAsRuncForAnUnprivilegedUser) {
  json spec = default_spec({"sh", "-c",
                            "id; grep -E '^(CapEff|CapPrm|CapInh|CapAmb|NoNewPrivs):' "
                            "/proc/self/status; touch /x 2>&1; echo $?"});
  spec["process"]["user"] = {{"uid", 1000}, {"gid", 1000}, {"additionalGids", {5, 6}}};
  spec["process"]["noNewPrivileges"] = false;
  Output ours = run("unpriv", spec);
  auto theirs = run_runc("unpriv-runc", spec);
  if (!theirs) GTEST_SKIP() << "runc is not installed";
  EXPECT_EQ(ours.out, theirs->out);
}

TEST_F(AgentGrpcTest, StdinEchoAndSignals) {
  ASSERT_TRUE(create("cat", default_spec({"cat"})).ok());
  auto out =
      std::async(std::launch::async, [&] { return read_stream(agent_->stub(), "cat", "", false); });
  ASSERT_TRUE(simple(&pb::Agent::Stub::StartContainer, "cat").ok());
  {
    grpc::ClientContext ctx;
    pb::WriteStdinRequest req;
    req.set_container_id("cat");
    req.set_data("hello through stdin\n");
    pb::WriteStdinResponse resp;
    ASSERT_TRUE(agent_->stub().WriteStdin(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.len(), 20u);
  }
  {
    grpc::ClientContext ctx;
    pb::WriteStdinRequest req;
    req.set_container_id("cat");
    req.set_data(std::string((1 << 20) + 1, 'x'));
    pb::WriteStdinResponse resp;
    grpc::Status s = agent_->stub().WriteStdin(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  }
  close_stdin("cat");
  EXPECT_EQ(wait("cat"), 0);
  EXPECT_EQ(out.get(), "hello through stdin\n");
  ASSERT_TRUE(remove("cat").ok());

  ASSERT_TRUE(create("sleeper", default_spec({"sh", "-c",
                                              "trap 'exit 42' USR1; while :; do sleep 0.05; done"}))
                  .ok());
  ASSERT_TRUE(simple(&pb::Agent::Stub::StartContainer, "sleeper").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the trap is set
  {
    grpc::ClientContext ctx;
    pb::SignalProcessRequest req;
    req.set_container_id("sleeper");
    req.set_signal(SIGUSR1);
    pb::Empty e;
    ASSERT_TRUE(agent_->stub().SignalProcess(&ctx, req, &e).ok());
  }
  EXPECT_EQ(wait("sleeper"), 42);
  ASSERT_TRUE(remove("sleeper").ok());
}

TEST_F(AgentGrpcTest, ExecTtyStatsAndProcesses) {
  ASSERT_TRUE(create("box", default_spec({"sleep", "1000"})).ok());
  ASSERT_TRUE(simple(&pb::Agent::Stub::StartContainer, "box").ok());
  {
    grpc::ClientContext ctx;
    pb::ExecProcessRequest req;
    req.set_container_id("box");
    req.set_exec_id("tty");
    req.set_oci_process_json(
        R"({"terminal": true, "user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "sleep 0.3; stty size; tty"],
                                 "cwd": "/", "env": ["PATH=/bin"]})");
    pb::ExecProcessResponse resp;
    grpc::Status s = agent_->stub().ExecProcess(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  {
    grpc::ClientContext ctx;
    pb::TtyWinResizeRequest req;
    req.set_container_id("box");
    req.set_exec_id("tty");
    req.set_rows(50);
    req.set_columns(160);
    pb::Empty e;
    ASSERT_TRUE(agent_->stub().TtyWinResize(&ctx, req, &e).ok());
  }
  std::string out = read_stream(agent_->stub(), "box", "tty", false);
  EXPECT_EQ(wait("box", "tty"), 0);
  EXPECT_NE(out.find("50 160"), std::string::npos) << out;
  EXPECT_NE(out.find("/dev/pts/0"), std::string::npos) << out;
  {
    grpc::ClientContext ctx;
    pb::ContainerRequest req;
    req.set_container_id("box");
    pb::ListProcessesResponse resp;
    ASSERT_TRUE(agent_->stub().ListProcesses(&ctx, req, &resp).ok());
    ASSERT_GE(resp.processes_size(), 1);
    EXPECT_EQ(resp.processes(0).command(), "sleep 1000");
  }
  {
    grpc::ClientContext ctx;
    pb::ContainerRequest req;
    req.set_container_id("box");
    pb::StatsContainerResponse resp;
    grpc::Status s = agent_->stub().StatsContainer(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    bool has_lo = false;
    for (const auto& n : resp.network()) has_lo = has_lo || n.name() == "lo";
    EXPECT_TRUE(has_lo) << "the container's own network namespace has lo";
    EXPECT_GT(resp.cpu().usage_usec(), 0u);
  }
  ASSERT_TRUE(remove("box").ok());
}

TEST_F(AgentGrpcTest, ClearErrors) {
  json bad = default_spec({"true"});
  bad["process"]["args"] = json::array();
  grpc::Status s = create("bad", bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("process.args: must be a non-empty array"), std::string::npos)
      << s.error_message();

  s = simple(&pb::Agent::Stub::StartContainer, "nope");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();

  ASSERT_TRUE(create("done", default_spec({"true"})).ok());
  ASSERT_TRUE(simple(&pb::Agent::Stub::StartContainer, "done").ok());
  EXPECT_EQ(wait("done"), 0);
  grpc::ClientContext ctx;
  pb::ExecProcessRequest req;
  req.set_container_id("done");
  req.set_exec_id("late");
  req.set_oci_process_json(R"({"user": {"uid": 0, "gid": 0}, "args": ["true"], "cwd": "/"})");
  pb::ExecProcessResponse resp;
  s = agent_->stub().ExecProcess(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_TRUE(remove("done").ok());
}

TEST_F(AgentGrpcTest, DestroySandboxStopsTheAgent) {
  ASSERT_TRUE(create("left", default_spec({"sleep", "1000"})).ok());
  ASSERT_TRUE(simple(&pb::Agent::Stub::StartContainer, "left").ok());
  grpc::ClientContext ctx;
  pb::DestroySandboxRequest req;
  req.set_shutdown_vm(true);
  pb::Empty e;
  ASSERT_TRUE(agent_->stub().DestroySandbox(&ctx, req, &e).ok());
  EXPECT_EQ(agent_->wait_exit(5000), 0);
}

// PID 1's log "to a ring the host can read": ReadAgentLog returns what the
// agent wrote to stderr, with a cursor that reads on without repeats.
TEST_F(AgentGrpcTest, HostReadsTheAgentLogRing) {
  pb::ReadAgentLogResponse first;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(agent_->stub().ReadAgentLog(&ctx, pb::ReadAgentLogRequest(), &first).ok());
  }
  bool saw_serving = false;
  for (const auto& line : first.lines())
    saw_serving |= line.text().find("serving hull.agent.v1 on unix:") != std::string::npos;
  EXPECT_TRUE(saw_serving) << first.DebugString();
  ASSERT_GT(first.next_sequence(), 1u);
  EXPECT_EQ(first.dropped_total(), 0u);

  ASSERT_FALSE(create("broken", json{{"ociVersion", "1.0.2"}}).ok());  // no process
  pb::ReadAgentLogRequest req;
  req.set_since_sequence(first.next_sequence());
  pb::ReadAgentLogResponse next;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(agent_->stub().ReadAgentLog(&ctx, req, &next).ok());
  }
  ASSERT_EQ(next.lines_size(), 1) << next.DebugString();
  EXPECT_EQ(next.lines(0).sequence(), first.next_sequence());
  EXPECT_NE(next.lines(0).text().find("CreateContainer broken failed"), std::string::npos)
      << next.lines(0).text();
  EXPECT_EQ(next.missed(), 0u);
  EXPECT_EQ(next.next_sequence(), first.next_sequence() + 1);
}

// Benchmark (prints, asserts only that it works): create+start+wait of
// /bin/true through the agent vs `runc run` on the same bundle; agent RSS.
TEST_F(AgentGrpcTest, BenchmarkTrueAgainstRunc) {
  const int n = 20;
  json spec = default_spec({"/bin/true"});
  uint64_t idle_rss = agent_->rss_kib();
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    Output o = run("bench" + std::to_string(i), spec);
    ASSERT_EQ(o.exit, 0);
  }
  double ours =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / n;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(create("idle" + std::to_string(i), default_spec({"sleep", "1000"})).ok());
    ASSERT_TRUE(simple(&pb::Agent::Stub::StartContainer, "idle" + std::to_string(i)).ok());
  }
  uint64_t busy_rss = agent_->rss_kib();
  for (int i = 0; i < 10; ++i) remove("idle" + std::to_string(i));
  std::printf(
      "[ BENCH    ] hull-agent create+start+wait /bin/true: %.2f ms; agent RSS idle %llu KiB, with "
      "10 containers %llu KiB\n",
      ours, static_cast<unsigned long long>(idle_rss), static_cast<unsigned long long>(busy_rss));
  if (!run_runc("warm", spec)) GTEST_SKIP() << "runc is not installed: no comparison";
  auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) ASSERT_EQ(run_runc("runc" + std::to_string(i), spec)->exit, 0);
  double runc =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count() / n;
  std::printf("[ BENCH    ] runc run /bin/true: %.2f ms; ratio hull-agent/runc = %.2f\n", runc,
              ours / runc);
}

}  // namespace
