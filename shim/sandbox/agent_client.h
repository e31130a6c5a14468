// The shim's side of the agent API (agent/proto/agent.proto) over a gRPC
// channel that rides a hybrid-vsock stream. Turns failed calls into
// SandboxError messages that name the call and quote the agent's reason.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "hull/agent/v1/agent.grpc.pb.h"
#include "sandbox/unique_fd.h"

namespace hull::shim {

namespace agentpb = ::hull::agent::v1;

// Each agent call's deadline unless the caller sets another. Generous: under
// nested TCG (CI) one exec in the guest can take tens of seconds.
inline constexpr std::chrono::seconds kDefaultAgentCallTimeout{120};

class AgentClient {
 public:
  // Takes ownership of `connected_fd` (a stream already connected to the
  // agent's port, e.g. from DialGuestPort).
  explicit AgentClient(UniqueFd connected_fd, std::chrono::milliseconds call_timeout = kDefaultAgentCallTimeout);

  agentpb::HealthResponse Health();
  void CreateSandbox(const agentpb::CreateSandboxRequest& request);
  void DestroySandbox(bool shutdown_vm);
  uint32_t CreateContainer(const agentpb::CreateContainerRequest& request);
  void StartContainer(const std::string& container_id);
  void RemoveContainer(const std::string& container_id);
  agentpb::WaitProcessResponse WaitProcess(const std::string& container_id,
                                           const std::string& exec_id);
  void SignalProcess(const std::string& container_id, const std::string& exec_id, int signal,
                     bool all);
  void CloseStdin(const std::string& container_id, const std::string& exec_id);
  void WriteStdin(const std::string& container_id, const std::string& exec_id, const std::string& data);
  // Starts `oci_process_json` in the running container; returns its guest pid.
  uint32_t ExecProcess(const std::string& container_id, const std::string& exec_id,
                       const std::string& oci_process_json);
  agentpb::ListProcessesResponse ListProcesses(const std::string& container_id);
  // The container's cgroup v2 counters (cpu, memory, pids, io) and network.
  agentpb::StatsContainerResponse StatsContainer(const std::string& container_id);
  void PauseContainer(const std::string& container_id);
  void ResumeContainer(const std::string& container_id);
  void TtyWinResize(const std::string& container_id, const std::string& exec_id, uint32_t rows,
                    uint32_t columns);
  void UpdateContainer(const std::string& container_id, const std::string& oci_resources_json);
  // Streams the process's stdout (or stderr) to `sink` until it closes.
  void CopyOutput(const std::string& container_id, const std::string& exec_id, bool stderr_stream,
                  const std::function<void(const std::string&)>& sink);

  // The agent's own log (its ring of console lines) from sequence `since` on
  // (0: the oldest kept), at most `max_lines` (0: all kept).
  agentpb::ReadAgentLogResponse ReadAgentLog(uint64_t since, uint32_t max_lines = 0);
  // Where the agent's log goes when a sandbox or container set-up call fails
  // or times out (default: this process's stderr, the shim's log).
  void SetAgentLogSink(std::function<void(const std::string&)> sink);

 private:
  void Check(const grpc::Status& status, const char* call) const;
  // Check() for set-up calls: on failure, first copies the agent's log lines
  // not reported yet (the last kAgentLogTail of them) to the log sink.
  void CheckSetUp(const grpc::Status& status, const char* call, const std::string& what);
  void ReportAgentLog(const std::string& why);
  std::unique_ptr<grpc::ClientContext> Context(bool unbounded = false) const;

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<agentpb::Agent::Stub> stub_;
  std::chrono::milliseconds call_timeout_;
  std::mutex log_mutex_;  // guards the two below
  std::function<void(const std::string&)> log_sink_;
  uint64_t log_cursor_ = 0;  // next agent log line not reported yet
};

}  // namespace hull::shim
