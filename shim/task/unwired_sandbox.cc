#include "task/unwired_sandbox.h"

#include "ttrpc/status.h"

namespace hull::task {

namespace {
[[noreturn]] void NoSuchTask(const std::string& id) {
  throw ttrpc::TtrpcError(ttrpc::Code::kNotFound, "task " + id + " not found: this shim holds no containers (" +
                                                      std::string(UnwiredSandbox::kNotWired) + ")");
}
}  // namespace

v2::StateResponse UnwiredSandbox::State(const v2::StateRequest& r) { NoSuchTask(r.id()); }
v2::CreateTaskResponse UnwiredSandbox::Create(const v2::CreateTaskRequest&) {
  throw ttrpc::TtrpcError(ttrpc::Code::kUnimplemented, kNotWired);
}
v2::StartResponse UnwiredSandbox::Start(const v2::StartRequest& r) { NoSuchTask(r.id()); }
v2::DeleteResponse UnwiredSandbox::Delete(const v2::DeleteRequest& r) { NoSuchTask(r.id()); }
v2::PidsResponse UnwiredSandbox::Pids(const v2::PidsRequest& r) { NoSuchTask(r.id()); }
void UnwiredSandbox::Pause(const v2::PauseRequest& r) { NoSuchTask(r.id()); }
void UnwiredSandbox::Resume(const v2::ResumeRequest& r) { NoSuchTask(r.id()); }
void UnwiredSandbox::Kill(const v2::KillRequest& r) { NoSuchTask(r.id()); }
void UnwiredSandbox::Exec(const v2::ExecProcessRequest& r) { NoSuchTask(r.id()); }
void UnwiredSandbox::ResizePty(const v2::ResizePtyRequest& r) { NoSuchTask(r.id()); }
void UnwiredSandbox::CloseIO(const v2::CloseIORequest& r) { NoSuchTask(r.id()); }
void UnwiredSandbox::Update(const v2::UpdateTaskRequest& r) { NoSuchTask(r.id()); }
v2::WaitResponse UnwiredSandbox::Wait(const v2::WaitRequest& r, const ttrpc::CallContext&) { NoSuchTask(r.id()); }
v2::StatsResponse UnwiredSandbox::Stats(const v2::StatsRequest& r) { NoSuchTask(r.id()); }

}  // namespace hull::task
