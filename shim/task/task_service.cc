#include "task/task_service.h"

#include <unistd.h>

#include "google/protobuf/empty.pb.h"
#include "ttrpc/status.h"

namespace hull::task {

namespace ev = ::containerd::events;
using ttrpc::Code;
using ttrpc::TtrpcError;

namespace {

constexpr char kVersion[] = "hull 0.1.0";

// containerd always names the task; an empty id would address nothing.
void RequireId(const std::string& id, const char* rpc) {
  if (id.empty()) throw TtrpcError(Code::kInvalidArgument, std::string(rpc) + ": the task id is empty");
}

std::string ProcessName(const std::string& container_id, const std::string& exec_id) {
  return exec_id.empty() ? "task " + container_id : "exec " + exec_id + " of task " + container_id;
}

}  // namespace

TaskService::TaskService(Sandbox& sandbox, EventPublisher& events, std::function<void()> request_exit)
    : sandbox_(sandbox), events_(events), request_exit_(std::move(request_exit)) {
  sandbox_.SetEventSink(this);
}

TaskService::~TaskService() { sandbox_.SetEventSink(nullptr); }

v2::StateResponse TaskService::State(const v2::StateRequest& request) {
  RequireId(request.id(), "State");
  return sandbox_.State(request);
}

v2::CreateTaskResponse TaskService::Create(const v2::CreateTaskRequest& request) {
  RequireId(request.id(), "Create");
  if (request.bundle().empty()) {
    throw TtrpcError(Code::kInvalidArgument, "Create " + request.id() + ": the bundle path is empty");
  }
  if (!request.checkpoint().empty() || !request.parent_checkpoint().empty()) {
    throw TtrpcError(Code::kUnimplemented, "Create " + request.id() +
                                               ": restoring from a checkpoint is not supported by hull (microVM "
                                               "tasks cannot be checkpointed); create the task without --checkpoint");
  }
  auto response = sandbox_.Create(request);
  ev::TaskCreate event;
  event.set_container_id(request.id());
  event.set_bundle(request.bundle());
  *event.mutable_rootfs() = request.rootfs();
  event.mutable_io()->set_stdin(request.stdin());
  event.mutable_io()->set_stdout(request.stdout());
  event.mutable_io()->set_stderr(request.stderr());
  event.mutable_io()->set_terminal(request.terminal());
  event.set_pid(response.pid());
  events_.Publish("/tasks/create", event);
  return response;
}

v2::StartResponse TaskService::Start(const v2::StartRequest& request) {
  RequireId(request.id(), "Start");
  ProcessKey key{request.id(), request.exec_id()};
  {
    std::lock_guard lock(mu_);
    starting_.insert(key);
  }
  v2::StartResponse response;
  try {
    response = sandbox_.Start(request);
  } catch (...) {
    std::lock_guard lock(mu_);
    starting_.erase(key);
    held_exits_.erase(key);
    throw;
  }
  if (request.exec_id().empty()) {
    ev::TaskStart event;
    event.set_container_id(request.id());
    event.set_pid(response.pid());
    events_.Publish("/tasks/start", event);
  } else {
    ev::TaskExecStarted event;
    event.set_container_id(request.id());
    event.set_exec_id(request.exec_id());
    event.set_pid(response.pid());
    events_.Publish("/tasks/exec-started", event);
  }
  std::optional<ev::TaskExit> held;
  {
    std::lock_guard lock(mu_);
    starting_.erase(key);
    if (auto it = held_exits_.find(key); it != held_exits_.end()) {
      held = std::move(it->second);
      held_exits_.erase(it);
    }
  }
  if (held) events_.Publish("/tasks/exit", *held);
  return response;
}

v2::DeleteResponse TaskService::Delete(const v2::DeleteRequest& request) {
  RequireId(request.id(), "Delete");
  auto response = sandbox_.Delete(request);
  // As containerd's runc shim: only the task itself, not an exec, gets /tasks/delete.
  if (request.exec_id().empty()) {
    ev::TaskDelete event;
    event.set_container_id(request.id());
    event.set_pid(response.pid());
    event.set_exit_status(response.exit_status());
    *event.mutable_exited_at() = response.exited_at();
    events_.Publish("/tasks/delete", event);
  }
  return response;
}

v2::PidsResponse TaskService::Pids(const v2::PidsRequest& request) {
  RequireId(request.id(), "Pids");
  return sandbox_.Pids(request);
}

void TaskService::Pause(const v2::PauseRequest& request) {
  RequireId(request.id(), "Pause");
  sandbox_.Pause(request);
  ev::TaskPaused event;
  event.set_container_id(request.id());
  events_.Publish("/tasks/paused", event);
}

void TaskService::Resume(const v2::ResumeRequest& request) {
  RequireId(request.id(), "Resume");
  sandbox_.Resume(request);
  ev::TaskResumed event;
  event.set_container_id(request.id());
  events_.Publish("/tasks/resumed", event);
}

void TaskService::Checkpoint(const v2::CheckpointTaskRequest& request) {
  throw TtrpcError(Code::kUnimplemented,
                   "Checkpoint " + request.id() +
                       ": hull does not checkpoint tasks (the container runs inside a microVM, where CRIU "
                       "cannot reach it); stop and recreate the task instead");
}

void TaskService::Kill(const v2::KillRequest& request) {
  RequireId(request.id(), "Kill");
  if (request.signal() > 64) {
    throw TtrpcError(Code::kInvalidArgument, "Kill " + ProcessName(request.id(), request.exec_id()) + ": signal " +
                                                 std::to_string(request.signal()) + " is not a valid signal (0-64)");
  }
  sandbox_.Kill(request);
}

void TaskService::Exec(const v2::ExecProcessRequest& request) {
  RequireId(request.id(), "Exec");
  if (request.exec_id().empty()) {
    throw TtrpcError(Code::kInvalidArgument, "Exec into task " + request.id() + ": the exec id is empty");
  }
  if (!request.has_spec()) {
    throw TtrpcError(Code::kInvalidArgument,
                     "Exec " + request.exec_id() + " into task " + request.id() + ": no process spec was given");
  }
  sandbox_.Exec(request);
  ev::TaskExecAdded event;
  event.set_container_id(request.id());
  event.set_exec_id(request.exec_id());
  events_.Publish("/tasks/exec-added", event);
}

void TaskService::ResizePty(const v2::ResizePtyRequest& request) {
  RequireId(request.id(), "ResizePty");
  sandbox_.ResizePty(request);
}

void TaskService::CloseIO(const v2::CloseIORequest& request) {
  RequireId(request.id(), "CloseIO");
  sandbox_.CloseIO(request);
}

void TaskService::Update(const v2::UpdateTaskRequest& request) {
  RequireId(request.id(), "Update");
  sandbox_.Update(request);
}

v2::WaitResponse TaskService::Wait(const v2::WaitRequest& request, const ttrpc::CallContext& call) {
  RequireId(request.id(), "Wait");
  return sandbox_.Wait(request, call);
}

v2::StatsResponse TaskService::Stats(const v2::StatsRequest& request) {
  RequireId(request.id(), "Stats");
  return sandbox_.Stats(request);
}

v2::ConnectResponse TaskService::Connect(const v2::ConnectRequest& request) {
  RequireId(request.id(), "Connect");
  v2::ConnectResponse response;
  response.set_shim_pid(static_cast<uint32_t>(::getpid()));
  response.set_version(kVersion);
  try {
    v2::StateRequest state;
    state.set_id(request.id());
    response.set_task_pid(sandbox_.State(state).pid());
  } catch (const TtrpcError& e) {
    // A shim may be asked before its task exists; pid 0 says "none yet".
    if (e.code() != Code::kNotFound) throw;
  }
  return response;
}

void TaskService::Shutdown(const v2::ShutdownRequest& request) {
  // containerd asks after every task delete; the sandbox (and this shim) live
  // on while other containers of the pod remain.
  if (!request.now() && sandbox_.ContainerCount() > 0) return;
  {
    std::lock_guard lock(mu_);
    if (exit_requested_) return;
    exit_requested_ = true;
  }
  sandbox_.Shutdown();
  if (request_exit_) request_exit_();
}

void TaskService::ProcessExited(const std::string& container_id, const std::string& exec_id, uint32_t pid,
                                uint32_t exit_status, const google::protobuf::Timestamp& exited_at) {
  ev::TaskExit event;
  event.set_container_id(container_id);
  // containerd names the init process by the container id.
  event.set_id(exec_id.empty() ? container_id : exec_id);
  event.set_pid(pid);
  event.set_exit_status(exit_status);
  *event.mutable_exited_at() = exited_at;
  {
    std::lock_guard lock(mu_);
    ProcessKey key{container_id, exec_id};
    if (starting_.contains(key)) {
      held_exits_[key] = std::move(event);
      return;
    }
  }
  events_.Publish("/tasks/exit", event);
}

void TaskService::OutOfMemory(const std::string& container_id) {
  ev::TaskOOM event;
  event.set_container_id(container_id);
  events_.Publish("/tasks/oom", event);
}

void TaskService::RegisterWith(ttrpc::Server& server) {
  using google::protobuf::Empty;
  const std::string s = kTaskServiceName;
  // Methods that answer with google.protobuf.Empty.
  auto empty = [this, &server, &s]<typename Request>(const char* name, void (TaskService::*method)(const Request&)) {
    server.RegisterUnary<Request, Empty>(s, name, [this, method](const ttrpc::CallContext&, const Request& r) {
      (this->*method)(r);
      return Empty();
    });
  };
  auto unary = [this, &server, &s]<typename Request, typename Response>(
                   const char* name, Response (TaskService::*method)(const Request&)) {
    server.RegisterUnary<Request, Response>(
        s, name, [this, method](const ttrpc::CallContext&, const Request& r) { return (this->*method)(r); });
  };
  unary("State", &TaskService::State);
  unary("Create", &TaskService::Create);
  unary("Start", &TaskService::Start);
  unary("Delete", &TaskService::Delete);
  unary("Pids", &TaskService::Pids);
  empty("Pause", &TaskService::Pause);
  empty("Resume", &TaskService::Resume);
  empty("Checkpoint", &TaskService::Checkpoint);
  empty("Kill", &TaskService::Kill);
  empty("Exec", &TaskService::Exec);
  empty("ResizePty", &TaskService::ResizePty);
  empty("CloseIO", &TaskService::CloseIO);
  empty("Update", &TaskService::Update);
  server.RegisterUnary<v2::WaitRequest, v2::WaitResponse>(
      s, "Wait", [this](const ttrpc::CallContext& call, const v2::WaitRequest& r) { return Wait(r, call); });
  unary("Stats", &TaskService::Stats);
  unary("Connect", &TaskService::Connect);
  empty("Shutdown", &TaskService::Shutdown);
}

}  // namespace hull::task
