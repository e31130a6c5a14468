#include "sandbox/agent_client.h"

#include <grpcpp/create_channel_posix.h>

#include <cstdio>

#include "sandbox/sandbox_error.h"

namespace hull::shim {

AgentClient::AgentClient(UniqueFd connected_fd, std::chrono::milliseconds call_timeout)
    : call_timeout_(call_timeout) {
  grpc::ChannelArguments args;
  // The stream is a single vsock connection: never try to reconnect it.
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  channel_ = grpc::CreateCustomInsecureChannelFromFd("hull-agent", connected_fd.Release(), args);
  stub_ = agentpb::Agent::NewStub(channel_);
}

std::unique_ptr<grpc::ClientContext> AgentClient::Context(bool unbounded) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!unbounded) ctx->set_deadline(std::chrono::system_clock::now() + call_timeout_);
  return ctx;
}

void AgentClient::Check(const grpc::Status& status, const char* call) const {
  if (status.ok()) return;
  throw SandboxError(std::string("agent ") + call + ": " + status.error_message(),
                     static_cast<int>(status.error_code()));
}

namespace {
constexpr int kAgentLogTail = 50;                                 // lines copied per failure
constexpr std::chrono::seconds kAgentLogTimeout{5};  // the agent may be the problem
}  // namespace

void AgentClient::CheckSetUp(const grpc::Status& status, const char* call, const std::string& what) {
  if (status.ok()) return;
  ReportAgentLog(std::string(call) + " " + what + " failed (" + status.error_message() + ")");
  Check(status, call);
}

agentpb::ReadAgentLogResponse AgentClient::ReadAgentLog(uint64_t since, uint32_t max_lines) {
  agentpb::ReadAgentLogRequest request;
  request.set_since_sequence(since);
  request.set_max_lines(max_lines);
  agentpb::ReadAgentLogResponse response;
  Check(stub_->ReadAgentLog(Context().get(), request, &response), "ReadAgentLog");
  return response;
}

void AgentClient::SetAgentLogSink(std::function<void(const std::string&)> sink) {
  std::lock_guard lock(log_mutex_);
  log_sink_ = std::move(sink);
}

void AgentClient::ReportAgentLog(const std::string& why) {
  std::lock_guard lock(log_mutex_);
  auto sink = log_sink_ ? log_sink_ : [](const std::string& line) {
    std::fprintf(stderr, "%s\n", line.c_str());
  };
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kAgentLogTimeout);
  agentpb::ReadAgentLogRequest request;
  request.set_since_sequence(log_cursor_);
  agentpb::ReadAgentLogResponse response;
  const grpc::Status status = stub_->ReadAgentLog(&ctx, request, &response);
  if (!status.ok()) {
    sink("agent log: " + why + "; the agent's log is unreadable too: " + status.error_message());
    return;
  }
  const int n = response.lines_size();
  const int first = n > kAgentLogTail ? n - kAgentLogTail : 0;
  sink("agent log: " + why + "; the agent's last " + std::to_string(n - first) + " log lines" +
       (first + response.missed() > 0
            ? " (" + std::to_string(first + response.missed()) + " earlier ones not shown)"
            : std::string()) +
       ":");
  for (int i = first; i < n; ++i) sink("agent log: | " + response.lines(i).text());
  log_cursor_ = response.next_sequence();
}

agentpb::HealthResponse AgentClient::Health() {
  agentpb::HealthResponse response;
  Check(stub_->Health(Context().get(), agentpb::HealthRequest{}, &response), "Health");
  return response;
}

void AgentClient::CreateSandbox(const agentpb::CreateSandboxRequest& request) {
  agentpb::Empty response;
  CheckSetUp(stub_->CreateSandbox(Context().get(), request, &response), "CreateSandbox",
             request.hostname());
}

void AgentClient::DestroySandbox(bool shutdown_vm) {
  agentpb::DestroySandboxRequest request;
  request.set_shutdown_vm(shutdown_vm);
  agentpb::Empty response;
  Check(stub_->DestroySandbox(Context().get(), request, &response), "DestroySandbox");
}

uint32_t AgentClient::CreateContainer(const agentpb::CreateContainerRequest& request) {
  agentpb::CreateContainerResponse response;
  CheckSetUp(stub_->CreateContainer(Context().get(), request, &response), "CreateContainer",
             request.container_id());
  return response.pid();
}

void AgentClient::StartContainer(const std::string& container_id) {
  agentpb::ContainerRequest request;
  request.set_container_id(container_id);
  agentpb::Empty response;
  CheckSetUp(stub_->StartContainer(Context().get(), request, &response), "StartContainer",
             container_id);
}

void AgentClient::RemoveContainer(const std::string& container_id) {
  agentpb::RemoveContainerRequest request;
  request.set_container_id(container_id);
  agentpb::Empty response;
  Check(stub_->RemoveContainer(Context().get(), request, &response), "RemoveContainer");
}

agentpb::WaitProcessResponse AgentClient::WaitProcess(const std::string& container_id,
                                                      const std::string& exec_id) {
  agentpb::ProcessRequest request;
  request.set_container_id(container_id);
  request.set_exec_id(exec_id);
  agentpb::WaitProcessResponse response;
  // A container may run for as long as it likes: no deadline.
  Check(stub_->WaitProcess(Context(/*unbounded=*/true).get(), request, &response), "WaitProcess");
  return response;
}

void AgentClient::SignalProcess(const std::string& container_id, const std::string& exec_id,
                                int signal, bool all) {
  agentpb::SignalProcessRequest request;
  request.set_container_id(container_id);
  request.set_exec_id(exec_id);
  request.set_signal(static_cast<uint32_t>(signal));
  request.set_all(all);
  agentpb::Empty response;
  Check(stub_->SignalProcess(Context().get(), request, &response), "SignalProcess");
}

void AgentClient::CloseStdin(const std::string& container_id, const std::string& exec_id) {
  agentpb::ProcessRequest request;
  request.set_container_id(container_id);
  request.set_exec_id(exec_id);
  agentpb::Empty response;
  Check(stub_->CloseStdin(Context().get(), request, &response), "CloseStdin");
}

void AgentClient::WriteStdin(const std::string& container_id, const std::string& exec_id,
                             const std::string& data) {
  agentpb::WriteStdinRequest request;
  request.set_container_id(container_id);
  request.set_exec_id(exec_id);
  request.set_data(data);
  agentpb::WriteStdinResponse response;
  Check(stub_->WriteStdin(Context().get(), request, &response), "WriteStdin");
}

uint32_t AgentClient::ExecProcess(const std::string& container_id, const std::string& exec_id,
                                  const std::string& oci_process_json) {
  agentpb::ExecProcessRequest request;
  request.set_container_id(container_id);
  request.set_exec_id(exec_id);
  request.set_oci_process_json(oci_process_json);
  agentpb::ExecProcessResponse response;
  Check(stub_->ExecProcess(Context().get(), request, &response), "ExecProcess");
  return response.pid();
}

agentpb::StatsContainerResponse AgentClient::StatsContainer(const std::string& container_id) {
  agentpb::ContainerRequest request;
  request.set_container_id(container_id);
  agentpb::StatsContainerResponse response;
  Check(stub_->StatsContainer(Context().get(), request, &response), "StatsContainer");
  return response;
}

agentpb::ListProcessesResponse AgentClient::ListProcesses(const std::string& container_id) {
  agentpb::ContainerRequest request;
  request.set_container_id(container_id);
  agentpb::ListProcessesResponse response;
  Check(stub_->ListProcesses(Context().get(), request, &response), "ListProcesses");
  return response;
}

void AgentClient::PauseContainer(const std::string& container_id) {
  agentpb::ContainerRequest request;
  request.set_container_id(container_id);
  agentpb::Empty response;
  Check(stub_->PauseContainer(Context().get(), request, &response), "PauseContainer");
}

void AgentClient::ResumeContainer(const std::string& container_id) {
  agentpb::ContainerRequest request;
  request.set_container_id(container_id);
  agentpb::Empty response;
  Check(stub_->ResumeContainer(Context().get(), request, &response), "ResumeContainer");
}

void AgentClient::TtyWinResize(const std::string& container_id, const std::string& exec_id,
                               uint32_t rows, uint32_t columns) {
  agentpb::TtyWinResizeRequest request;
  request.set_container_id(container_id);
  request.set_exec_id(exec_id);
  request.set_rows(rows);
  request.set_columns(columns);
  agentpb::Empty response;
  Check(stub_->TtyWinResize(Context().get(), request, &response), "TtyWinResize");
}

void AgentClient::UpdateContainer(const std::string& container_id,
                                  const std::string& oci_resources_json) {
  agentpb::UpdateContainerRequest request;
  request.set_container_id(container_id);
  request.set_oci_resources_json(oci_resources_json);
  agentpb::Empty response;
  Check(stub_->UpdateContainer(Context().get(), request, &response), "UpdateContainer");
}

void AgentClient::CopyOutput(const std::string& container_id, const std::string& exec_id,
                             bool stderr_stream,
                             const std::function<void(const std::string&)>& sink) {
  agentpb::ProcessRequest request;
  request.set_container_id(container_id);
  request.set_exec_id(exec_id);
  auto ctx = Context(/*unbounded=*/true);
  auto reader = stderr_stream ? stub_->ReadStderr(ctx.get(), request)
                              : stub_->ReadStdout(ctx.get(), request);
  agentpb::OutputChunk chunk;
  while (reader->Read(&chunk)) sink(chunk.data());
  Check(reader->Finish(), stderr_stream ? "ReadStderr" : "ReadStdout");
}

}  // namespace hull::shim
