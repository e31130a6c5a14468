// containerd's shim v2 Task service (containerd.task.v2.Task, all 17 RPCs)
// over a Sandbox. This layer checks requests, turns successful calls into
// containerd's task events (/tasks/create, start, exec-added, exec-started,
// paused, resumed, delete, and from the sandbox exit and oom) and keeps their
// order: a process's exit is never published before its start.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "task/event_publisher.h"
#include "task/sandbox.h"
#include "ttrpc/server.h"

namespace hull::task {

inline constexpr char kTaskServiceName[] = "containerd.task.v2.Task";

class TaskService : public SandboxEventSink {
 public:
  // `request_exit` is called (once) when Shutdown decides the shim should go;
  // the caller stops the ttrpc server from outside the handler.
  TaskService(Sandbox& sandbox, EventPublisher& events, std::function<void()> request_exit);
  ~TaskService() override;
  TaskService(const TaskService&) = delete;
  TaskService& operator=(const TaskService&) = delete;

  // Registers the 17 methods under containerd.task.v2.Task.
  void RegisterWith(ttrpc::Server& server);

  v2::StateResponse State(const v2::StateRequest& request);
  v2::CreateTaskResponse Create(const v2::CreateTaskRequest& request);
  v2::StartResponse Start(const v2::StartRequest& request);
  v2::DeleteResponse Delete(const v2::DeleteRequest& request);
  v2::PidsResponse Pids(const v2::PidsRequest& request);
  void Pause(const v2::PauseRequest& request);
  void Resume(const v2::ResumeRequest& request);
  void Checkpoint(const v2::CheckpointTaskRequest& request);
  void Kill(const v2::KillRequest& request);
  void Exec(const v2::ExecProcessRequest& request);
  void ResizePty(const v2::ResizePtyRequest& request);
  void CloseIO(const v2::CloseIORequest& request);
  void Update(const v2::UpdateTaskRequest& request);
  v2::WaitResponse Wait(const v2::WaitRequest& request, const ttrpc::CallContext& call);
  v2::StatsResponse Stats(const v2::StatsRequest& request);
  v2::ConnectResponse Connect(const v2::ConnectRequest& request);
  void Shutdown(const v2::ShutdownRequest& request);

  // SandboxEventSink
  void ProcessExited(const std::string& container_id, const std::string& exec_id, uint32_t pid,
                     uint32_t exit_status, const google::protobuf::Timestamp& exited_at) override;
  void OutOfMemory(const std::string& container_id) override;

 private:
  using ProcessKey = std::pair<std::string, std::string>;  // container id, exec id

  Sandbox& sandbox_;
  EventPublisher& events_;
  std::function<void()> request_exit_;

  std::mutex mu_;
  std::set<ProcessKey> starting_;                                  // Start in flight
  std::map<ProcessKey, containerd::events::TaskExit> held_exits_;  // exits seen meanwhile
  bool exit_requested_ = false;
};

}  // namespace hull::task
