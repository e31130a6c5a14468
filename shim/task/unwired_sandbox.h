// The sandbox this shim build really has: none. The microVM sandbox (hull-vmm
// + agent) is not connected to the Task service yet, so Create fails with a
// clear Unimplemented error and every other call finds no task. Nothing is
// faked: containerd sees exactly what exists.
#pragma once

#include "task/sandbox.h"

namespace hull::task {

class UnwiredSandbox final : public Sandbox {
 public:
  static constexpr char kNotWired[] =
      "hull-vmm sandbox not wired yet: this containerd-shim-hull-v2 can speak the shim v2 protocol but cannot "
      "create containers until the microVM sandbox (hull-vmm + hull-agent) is connected to its Task service";

  void SetEventSink(SandboxEventSink*) override {}
  v2::StateResponse State(const v2::StateRequest& request) override;
  v2::CreateTaskResponse Create(const v2::CreateTaskRequest& request) override;
  v2::StartResponse Start(const v2::StartRequest& request) override;
  v2::DeleteResponse Delete(const v2::DeleteRequest& request) override;
  v2::PidsResponse Pids(const v2::PidsRequest& request) override;
  void Pause(const v2::PauseRequest& request) override;
  void Resume(const v2::ResumeRequest& request) override;
  void Kill(const v2::KillRequest& request) override;
  void Exec(const v2::ExecProcessRequest& request) override;
  void ResizePty(const v2::ResizePtyRequest& request) override;
  void CloseIO(const v2::CloseIORequest& request) override;
  void Update(const v2::UpdateTaskRequest& request) override;
  v2::WaitResponse Wait(const v2::WaitRequest& request, const ttrpc::CallContext& call) override;
  v2::StatsResponse Stats(const v2::StatsRequest& request) override;
  size_t ContainerCount() const override { return 0; }
  void Shutdown() override {}
};

}  // namespace hull::task
