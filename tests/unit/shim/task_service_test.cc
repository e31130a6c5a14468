// The Task service over ttrpc against a fake sandbox: every RPC, its
// validation, its events and their order.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "google/protobuf/empty.pb.h"
#include "task/task_service.h"
#include "ttrpc/client.h"
#include "ttrpc/server.h"

namespace hull::task {
namespace {

using namespace std::chrono_literals;
using google::protobuf::Empty;
using ttrpc::Code;
using ttrpc::TtrpcError;
namespace ev = ::containerd::events;

struct PublishedEvent {
  std::string topic;
  std::string type_url;
  std::string value;
};

class RecordingPublisher : public EventPublisher {
 public:
  void Publish(const std::string& topic, const google::protobuf::Message& event) override {
    std::lock_guard lock(mu);
    events.push_back({topic, EventTypeUrl(event), event.SerializeAsString()});
  }
  std::vector<PublishedEvent> Take() {
    std::lock_guard lock(mu);
    return std::exchange(events, {});
  }
  std::mutex mu;
  std::vector<PublishedEvent> events;
};

template <typename T>
T Decode(const PublishedEvent& e) {
  T out;
  EXPECT_TRUE(out.ParseFromString(e.value));
  return out;
}

class FakeSandbox : public Sandbox {
 public:
  void SetEventSink(SandboxEventSink* s) override { sink = s; }
  v2::StateResponse State(const v2::StateRequest& r) override {
    Check("State");
    if (r.id() == "missing") throw TtrpcError(Code::kNotFound, "task missing not found");
    v2::StateResponse out;
    out.set_id(r.id());
    out.set_pid(4242);
    out.set_status(::containerd::v1::types::RUNNING);
    return out;
  }
  v2::CreateTaskResponse Create(const v2::CreateTaskRequest& r) override {
    Check("Create");
    last_create = r;
    v2::CreateTaskResponse out;
    out.set_pid(42);
    return out;
  }
  v2::StartResponse Start(const v2::StartRequest& r) override {
    Check("Start");
    if (exit_during_start && sink) sink->ProcessExited(r.id(), r.exec_id(), 43, 7, google::protobuf::Timestamp());
    v2::StartResponse out;
    out.set_pid(43);
    return out;
  }
  v2::DeleteResponse Delete(const v2::DeleteRequest&) override {
    Check("Delete");
    v2::DeleteResponse out;
    out.set_pid(42);
    out.set_exit_status(3);
    out.mutable_exited_at()->set_seconds(1700000000);
    return out;
  }
  v2::PidsResponse Pids(const v2::PidsRequest&) override {
    Check("Pids");
    v2::PidsResponse out;
    out.add_processes()->set_pid(1);
    out.add_processes()->set_pid(7);
    return out;
  }
  void Pause(const v2::PauseRequest&) override { Check("Pause"); }
  void Resume(const v2::ResumeRequest&) override { Check("Resume"); }
  void Kill(const v2::KillRequest& r) override {
    Check("Kill");
    if (r.exec_id() == "ghost") throw TtrpcError(Code::kNotFound, "exec ghost not found");
    last_kill = r;
  }
  void Exec(const v2::ExecProcessRequest& r) override {
    Check("Exec");
    last_exec = r;
  }
  void ResizePty(const v2::ResizePtyRequest& r) override {
    Check("ResizePty");
    last_resize = r;
  }
  void CloseIO(const v2::CloseIORequest& r) override {
    Check("CloseIO");
    last_closeio = r;
  }
  void Update(const v2::UpdateTaskRequest& r) override {
    Check("Update");
    last_update = r;
  }
  v2::WaitResponse Wait(const v2::WaitRequest&, const ttrpc::CallContext& call) override {
    Check("Wait");
    auto status = wait_result.wait_for(0s);
    while (status != std::future_status::ready) {
      if (call.WaitCancelled(5ms)) {
        wait_cancelled = true;
        throw TtrpcError(Code::kCancelled, "wait cancelled");
      }
      status = wait_result.wait_for(0s);
    }
    v2::WaitResponse out;
    out.set_exit_status(wait_result.get());
    return out;
  }
  v2::StatsResponse Stats(const v2::StatsRequest&) override {
    Check("Stats");
    v2::StatsResponse out;
    out.mutable_stats()->set_type_url("io.containerd.cgroups.v2.Metrics");
    out.mutable_stats()->set_value("m");
    return out;
  }
  size_t ContainerCount() const override { return containers; }
  void Shutdown() override { ++shutdowns; }

  void Check(const std::string& rpc) {
    std::lock_guard lock(mu);
    calls.push_back(rpc);
  }

  std::mutex mu;
  std::vector<std::string> calls;
  SandboxEventSink* sink = nullptr;
  bool exit_during_start = false;
  size_t containers = 1;
  std::atomic<int> shutdowns{0};
  std::atomic<bool> wait_cancelled{false};
  std::promise<uint32_t> never_exits;
  std::shared_future<uint32_t> wait_result = never_exits.get_future().share();
  v2::CreateTaskRequest last_create;
  v2::KillRequest last_kill;
  v2::ExecProcessRequest last_exec;
  v2::ResizePtyRequest last_resize;
  v2::CloseIORequest last_closeio;
  v2::UpdateTaskRequest last_update;
};

class TaskServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-task-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    service_ = std::make_unique<TaskService>(sandbox_, events_, [this] { ++exit_requests_; });
    service_->RegisterWith(server_);
    server_.Listen(dir_ + "/shim.sock");
    server_.Start();
    client_ = std::make_unique<ttrpc::Client>(dir_ + "/shim.sock");
  }
  void TearDown() override {
    client_.reset();
    server_.Shutdown();
    service_.reset();
    std::filesystem::remove_all(dir_);
  }

  template <typename Response = Empty, typename Request>
  Response Call(const std::string& method, const Request& request, const ttrpc::CallOptions& options = {}) {
    return client_->Call<Response>(kTaskServiceName, method, request, options);
  }
  template <typename Request>
  Code CallCode(const std::string& method, const Request& request, std::string* message = nullptr) {
    try {
      client_->Call(kTaskServiceName, method, request.SerializeAsString());
      return Code::kOk;
    } catch (const TtrpcError& e) {
      if (message) *message = e.status().message;
      return e.code();
    }
  }

  std::string dir_;
  FakeSandbox sandbox_;
  RecordingPublisher events_;
  std::atomic<int> exit_requests_{0};
  std::unique_ptr<TaskService> service_;
  ttrpc::Server server_;
  std::unique_ptr<ttrpc::Client> client_;
};

TEST_F(TaskServiceTest, CreatePublishesTaskCreate) {
  v2::CreateTaskRequest req;
  req.set_id("c1");
  req.set_bundle("/run/containerd/io.containerd.runtime.v2.task/default/c1");
  req.set_stdin("/fifo/in");
  req.set_stdout("/fifo/out");
  req.set_stderr("/fifo/err");
  req.set_terminal(true);
  auto* m = req.add_rootfs();
  m->set_type("overlay");
  m->set_source("overlay");
  m->add_options("lowerdir=/a");
  auto resp = Call<v2::CreateTaskResponse>("Create", req);
  EXPECT_EQ(resp.pid(), 42u);
  EXPECT_EQ(sandbox_.last_create.bundle(), req.bundle());
  auto evs = events_.Take();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].topic, "/tasks/create");
  EXPECT_EQ(evs[0].type_url, "containerd.events.TaskCreate");
  auto e = Decode<ev::TaskCreate>(evs[0]);
  EXPECT_EQ(e.container_id(), "c1");
  EXPECT_EQ(e.bundle(), req.bundle());
  EXPECT_EQ(e.pid(), 42u);
  EXPECT_EQ(e.io().stdout(), "/fifo/out");
  EXPECT_TRUE(e.io().terminal());
  ASSERT_EQ(e.rootfs_size(), 1);
  EXPECT_EQ(e.rootfs(0).options(0), "lowerdir=/a");
}

TEST_F(TaskServiceTest, CreateValidatesBeforeTouchingTheSandbox) {
  v2::CreateTaskRequest req;
  req.set_id("c1");
  std::string message;
  EXPECT_EQ(CallCode("Create", req, &message), Code::kInvalidArgument);
  EXPECT_NE(message.find("bundle"), std::string::npos) << message;
  req.set_bundle("/b");
  req.set_checkpoint("/cp");
  EXPECT_EQ(CallCode("Create", req, &message), Code::kUnimplemented);
  EXPECT_NE(message.find("checkpoint"), std::string::npos) << message;
  EXPECT_TRUE(sandbox_.calls.empty());
  EXPECT_TRUE(events_.Take().empty());
}

TEST_F(TaskServiceTest, EveryRpcRejectsAnEmptyId) {
  for (const char* method : {"State", "Create", "Start", "Delete", "Pids", "Pause", "Resume", "Kill", "Exec",
                             "ResizePty", "CloseIO", "Update", "Wait", "Stats", "Connect"}) {
    std::string message;
    EXPECT_EQ(CallCode(method, Empty(), &message), Code::kInvalidArgument) << method << ": " << message;
    EXPECT_NE(message.find("id is empty"), std::string::npos) << method << ": " << message;
  }
  EXPECT_TRUE(sandbox_.calls.empty());
}

TEST_F(TaskServiceTest, StartPublishesStartOrExecStarted) {
  v2::StartRequest req;
  req.set_id("c1");
  EXPECT_EQ(Call<v2::StartResponse>("Start", req).pid(), 43u);
  req.set_exec_id("e1");
  Call<v2::StartResponse>("Start", req);
  auto evs = events_.Take();
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].topic, "/tasks/start");
  EXPECT_EQ(Decode<ev::TaskStart>(evs[0]).pid(), 43u);
  EXPECT_EQ(evs[1].topic, "/tasks/exec-started");
  auto started = Decode<ev::TaskExecStarted>(evs[1]);
  EXPECT_EQ(started.container_id(), "c1");
  EXPECT_EQ(started.exec_id(), "e1");
  EXPECT_EQ(started.pid(), 43u);
}

TEST_F(TaskServiceTest, ExitDuringStartIsPublishedAfterTheStartEvent) {
  sandbox_.exit_during_start = true;
  v2::StartRequest req;
  req.set_id("c1");
  Call<v2::StartResponse>("Start", req);
  auto evs = events_.Take();
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].topic, "/tasks/start");
  EXPECT_EQ(evs[1].topic, "/tasks/exit");
  auto exit = Decode<ev::TaskExit>(evs[1]);
  EXPECT_EQ(exit.container_id(), "c1");
  EXPECT_EQ(exit.id(), "c1") << "the init process is named by the container id";
  EXPECT_EQ(exit.exit_status(), 7u);
}

TEST_F(TaskServiceTest, ExitsAndOomFromTheSandbox) {
  google::protobuf::Timestamp at;
  at.set_seconds(1700000001);
  sandbox_.sink->ProcessExited("c1", "e1", 50, 137, at);
  sandbox_.sink->OutOfMemory("c1");
  auto evs = events_.Take();
  ASSERT_EQ(evs.size(), 2u);
  auto exit = Decode<ev::TaskExit>(evs[0]);
  EXPECT_EQ(exit.id(), "e1");
  EXPECT_EQ(exit.pid(), 50u);
  EXPECT_EQ(exit.exit_status(), 137u);
  EXPECT_EQ(exit.exited_at().seconds(), 1700000001);
  EXPECT_EQ(evs[1].topic, "/tasks/oom");
  EXPECT_EQ(evs[1].type_url, "containerd.events.TaskOOM");
}

TEST_F(TaskServiceTest, DeletePublishesOnlyForTheTaskItself) {
  v2::DeleteRequest req;
  req.set_id("c1");
  auto resp = Call<v2::DeleteResponse>("Delete", req);
  EXPECT_EQ(resp.exit_status(), 3u);
  req.set_exec_id("e1");
  Call<v2::DeleteResponse>("Delete", req);
  auto evs = events_.Take();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].topic, "/tasks/delete");
  auto e = Decode<ev::TaskDelete>(evs[0]);
  EXPECT_EQ(e.container_id(), "c1");
  EXPECT_EQ(e.pid(), 42u);
  EXPECT_EQ(e.exit_status(), 3u);
  EXPECT_EQ(e.exited_at().seconds(), 1700000000);
}

TEST_F(TaskServiceTest, PauseAndResumePublish) {
  v2::PauseRequest pause;
  pause.set_id("c1");
  Call("Pause", pause);
  v2::ResumeRequest resume;
  resume.set_id("c1");
  Call("Resume", resume);
  auto evs = events_.Take();
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].topic, "/tasks/paused");
  EXPECT_EQ(Decode<ev::TaskPaused>(evs[0]).container_id(), "c1");
  EXPECT_EQ(evs[1].topic, "/tasks/resumed");
}

TEST_F(TaskServiceTest, CheckpointIsUnimplementedWithAReason) {
  v2::CheckpointTaskRequest req;
  req.set_id("c1");
  std::string message;
  EXPECT_EQ(CallCode("Checkpoint", req, &message), Code::kUnimplemented);
  EXPECT_NE(message.find("does not checkpoint"), std::string::npos) << message;
  EXPECT_TRUE(sandbox_.calls.empty());
}

TEST_F(TaskServiceTest, KillPassesSignalAndReportsUnknownExec) {
  v2::KillRequest req;
  req.set_id("c1");
  req.set_signal(15);
  req.set_all(true);
  Call("Kill", req);
  EXPECT_EQ(sandbox_.last_kill.signal(), 15u);
  EXPECT_TRUE(sandbox_.last_kill.all());
  req.set_exec_id("ghost");
  std::string message;
  EXPECT_EQ(CallCode("Kill", req, &message), Code::kNotFound);
  EXPECT_EQ(message, "exec ghost not found");
  req.set_signal(99);
  EXPECT_EQ(CallCode("Kill", req, &message), Code::kInvalidArgument);
  EXPECT_NE(message.find("signal 99"), std::string::npos) << message;
}

TEST_F(TaskServiceTest, ExecPublishesExecAdded) {
  v2::ExecProcessRequest req;
  req.set_id("c1");
  std::string message;
  EXPECT_EQ(CallCode("Exec", req, &message), Code::kInvalidArgument);
  req.set_exec_id("e1");
  EXPECT_EQ(CallCode("Exec", req, &message), Code::kInvalidArgument);
  EXPECT_NE(message.find("process spec"), std::string::npos) << message;
  req.mutable_spec()->set_type_url("types.containerd.io/opencontainers/runtime-spec/1/Process");
  req.set_terminal(true);
  Call("Exec", req);
  EXPECT_TRUE(sandbox_.last_exec.terminal());
  auto evs = events_.Take();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].topic, "/tasks/exec-added");
  EXPECT_EQ(Decode<ev::TaskExecAdded>(evs[0]).exec_id(), "e1");
}

TEST_F(TaskServiceTest, ResizeCloseIoUpdatePassThrough) {
  v2::ResizePtyRequest resize;
  resize.set_id("c1");
  resize.set_width(120);
  resize.set_height(40);
  Call("ResizePty", resize);
  EXPECT_EQ(sandbox_.last_resize.width(), 120u);
  v2::CloseIORequest close;
  close.set_id("c1");
  close.set_stdin(true);
  Call("CloseIO", close);
  EXPECT_TRUE(sandbox_.last_closeio.stdin());
  v2::UpdateTaskRequest update;
  update.set_id("c1");
  (*update.mutable_annotations())["a"] = "b";
  Call("Update", update);
  EXPECT_EQ(sandbox_.last_update.annotations().at("a"), "b");
  EXPECT_TRUE(events_.Take().empty());
}

TEST_F(TaskServiceTest, StatePidsStatsPassThrough) {
  v2::StateRequest state;
  state.set_id("c1");
  auto s = Call<v2::StateResponse>("State", state);
  EXPECT_EQ(s.pid(), 4242u);
  EXPECT_EQ(s.status(), ::containerd::v1::types::RUNNING);
  state.set_id("missing");
  EXPECT_EQ(CallCode("State", state), Code::kNotFound);
  v2::PidsRequest pids;
  pids.set_id("c1");
  EXPECT_EQ(Call<v2::PidsResponse>("Pids", pids).processes_size(), 2);
  v2::StatsRequest stats;
  stats.set_id("c1");
  EXPECT_EQ(Call<v2::StatsResponse>("Stats", stats).stats().type_url(), "io.containerd.cgroups.v2.Metrics");
}

TEST_F(TaskServiceTest, WaitBlocksUntilExit) {
  std::promise<uint32_t> exit;
  sandbox_.wait_result = exit.get_future().share();
  v2::WaitRequest req;
  req.set_id("c1");
  auto waiting = std::async(std::launch::async, [&] { return Call<v2::WaitResponse>("Wait", req); });
  EXPECT_EQ(waiting.wait_for(100ms), std::future_status::timeout);
  // Other RPCs are served meanwhile.
  v2::StateRequest state;
  state.set_id("c1");
  EXPECT_EQ(Call<v2::StateResponse>("State", state).pid(), 4242u);
  exit.set_value(9);
  EXPECT_EQ(waiting.get().exit_status(), 9u);
}

TEST_F(TaskServiceTest, WaitIsCancelledByItsDeadline) {
  v2::WaitRequest req;
  req.set_id("c1");
  ttrpc::CallOptions options;
  options.timeout = 100ms;
  try {
    Call<v2::WaitResponse>("Wait", req, options);
    FAIL() << "Wait returned without an exit";
  } catch (const TtrpcError& e) {
    EXPECT_EQ(e.code(), Code::kDeadlineExceeded);
  }
  for (int i = 0; i < 100 && !sandbox_.wait_cancelled; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(sandbox_.wait_cancelled);
}

TEST_F(TaskServiceTest, ConnectReportsShimAndTaskPids) {
  v2::ConnectRequest req;
  req.set_id("c1");
  auto resp = Call<v2::ConnectResponse>("Connect", req);
  EXPECT_EQ(resp.shim_pid(), static_cast<uint32_t>(getpid()));
  EXPECT_EQ(resp.task_pid(), 4242u);
  EXPECT_FALSE(resp.version().empty());
  req.set_id("missing");
  EXPECT_EQ(Call<v2::ConnectResponse>("Connect", req).task_pid(), 0u);
}

TEST_F(TaskServiceTest, ShutdownWaitsForTheLastContainer) {
  v2::ShutdownRequest req;
  req.set_id("c1");
  Call("Shutdown", req);
  EXPECT_EQ(sandbox_.shutdowns, 0);
  EXPECT_EQ(exit_requests_, 0);
  sandbox_.containers = 0;
  Call("Shutdown", req);
  Call("Shutdown", req);
  EXPECT_EQ(sandbox_.shutdowns, 1);
  EXPECT_EQ(exit_requests_, 1);
}

TEST_F(TaskServiceTest, ShutdownNowIgnoresRemainingContainers) {
  v2::ShutdownRequest req;
  req.set_id("c1");
  req.set_now(true);
  Call("Shutdown", req);
  EXPECT_EQ(sandbox_.shutdowns, 1);
  EXPECT_EQ(exit_requests_, 1);
}

}  // namespace
}  // namespace hull::task
