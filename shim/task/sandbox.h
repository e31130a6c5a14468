// What the Task service needs from a sandbox (one microVM holding a pod's
// containers). The Task service validates requests, publishes containerd's
// task events and keeps their order; the sandbox does the work. Failures are
// reported by throwing hull::ttrpc::TtrpcError with the gRPC code containerd
// maps to its errdefs (NotFound, AlreadyExists, FailedPrecondition,
// InvalidArgument, Unimplemented, ...) and a message saying what to do.
#pragma once

#include <cstdint>
#include <string>

#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "ttrpc/server.h"

namespace hull::task {

namespace v2 = ::containerd::task::v2;

// What a sandbox reports on its own, as it happens.
class SandboxEventSink {
 public:
  virtual ~SandboxEventSink() = default;
  // A container's init process (exec_id empty) or an exec process ended.
  virtual void ProcessExited(const std::string& container_id, const std::string& exec_id, uint32_t pid,
                             uint32_t exit_status, const google::protobuf::Timestamp& exited_at) = 0;
  virtual void OutOfMemory(const std::string& container_id) = 0;
};

class Sandbox {
 public:
  virtual ~Sandbox() = default;

  // The Task service subscribes itself; nullptr unsubscribes. Events may come
  // from any thread.
  virtual void SetEventSink(SandboxEventSink* sink) = 0;

  virtual v2::StateResponse State(const v2::StateRequest& request) = 0;
  virtual v2::CreateTaskResponse Create(const v2::CreateTaskRequest& request) = 0;
  virtual v2::StartResponse Start(const v2::StartRequest& request) = 0;
  virtual v2::DeleteResponse Delete(const v2::DeleteRequest& request) = 0;
  virtual v2::PidsResponse Pids(const v2::PidsRequest& request) = 0;
  virtual void Pause(const v2::PauseRequest& request) = 0;
  virtual void Resume(const v2::ResumeRequest& request) = 0;
  virtual void Kill(const v2::KillRequest& request) = 0;
  virtual void Exec(const v2::ExecProcessRequest& request) = 0;
  virtual void ResizePty(const v2::ResizePtyRequest& request) = 0;
  virtual void CloseIO(const v2::CloseIORequest& request) = 0;
  virtual void Update(const v2::UpdateTaskRequest& request) = 0;
  // Blocks until the process exits; returns early (throwing TtrpcError with
  // Cancelled) once `call` is cancelled.
  virtual v2::WaitResponse Wait(const v2::WaitRequest& request, const ttrpc::CallContext& call) = 0;
  virtual v2::StatsResponse Stats(const v2::StatsRequest& request) = 0;

  // Containers created and not yet deleted; the shim exits on Shutdown only
  // when this is zero (or the request says `now`).
  virtual size_t ContainerCount() const = 0;
  // Stops the VM and removes everything the sandbox made. Idempotent.
  virtual void Shutdown() = 0;
};

}  // namespace hull::task
