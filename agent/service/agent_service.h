// The hull.agent.v1.Agent gRPC service on top of the runtime and the sandbox.
#pragma once

#include <functional>

#include "hull/agent/v1/agent.grpc.pb.h"
#include "runtime/runtime.h"
#include "service/log_ring.h"
#include "service/sandbox.h"

namespace hull::service {

namespace pb = hull::agent::v1;

class AgentService final : public pb::Agent::Service {
 public:
  // `shutdown` runs after a DestroySandbox{shutdown_vm} reply went out;
  // `log` holds the agent's own log lines for ReadAgentLog.
  AgentService(runtime::Runtime& rt, Sandbox& sandbox, std::function<void()> shutdown,
               const LogRing& log)
      : rt_(rt), sandbox_(sandbox), shutdown_(std::move(shutdown)), log_(log) {}

  grpc::Status Health(grpc::ServerContext*, const pb::HealthRequest*, pb::HealthResponse*) override;
  grpc::Status Version(grpc::ServerContext*, const pb::VersionRequest*,
                       pb::VersionResponse*) override;
  grpc::Status CreateSandbox(grpc::ServerContext*, const pb::CreateSandboxRequest*,
                             pb::Empty*) override;
  grpc::Status DestroySandbox(grpc::ServerContext*, const pb::DestroySandboxRequest*,
                              pb::Empty*) override;
  grpc::Status CreateContainer(grpc::ServerContext*, const pb::CreateContainerRequest*,
                               pb::CreateContainerResponse*) override;
  grpc::Status StartContainer(grpc::ServerContext*, const pb::ContainerRequest*,
                              pb::Empty*) override;
  grpc::Status RemoveContainer(grpc::ServerContext*, const pb::RemoveContainerRequest*,
                               pb::Empty*) override;
  grpc::Status ExecProcess(grpc::ServerContext*, const pb::ExecProcessRequest*,
                           pb::ExecProcessResponse*) override;
  grpc::Status SignalProcess(grpc::ServerContext*, const pb::SignalProcessRequest*,
                             pb::Empty*) override;
  grpc::Status WaitProcess(grpc::ServerContext*, const pb::ProcessRequest*,
                           pb::WaitProcessResponse*) override;
  grpc::Status WriteStdin(grpc::ServerContext*, const pb::WriteStdinRequest*,
                          pb::WriteStdinResponse*) override;
  grpc::Status CloseStdin(grpc::ServerContext*, const pb::ProcessRequest*, pb::Empty*) override;
  grpc::Status ReadStdout(grpc::ServerContext*, const pb::ProcessRequest*,
                          grpc::ServerWriter<pb::OutputChunk>*) override;
  grpc::Status ReadStderr(grpc::ServerContext*, const pb::ProcessRequest*,
                          grpc::ServerWriter<pb::OutputChunk>*) override;
  grpc::Status TtyWinResize(grpc::ServerContext*, const pb::TtyWinResizeRequest*,
                            pb::Empty*) override;
  grpc::Status PauseContainer(grpc::ServerContext*, const pb::ContainerRequest*,
                              pb::Empty*) override;
  grpc::Status ResumeContainer(grpc::ServerContext*, const pb::ContainerRequest*,
                               pb::Empty*) override;
  grpc::Status StatsContainer(grpc::ServerContext*, const pb::ContainerRequest*,
                              pb::StatsContainerResponse*) override;
  grpc::Status UpdateContainer(grpc::ServerContext*, const pb::UpdateContainerRequest*,
                               pb::Empty*) override;
  grpc::Status ListProcesses(grpc::ServerContext*, const pb::ContainerRequest*,
                             pb::ListProcessesResponse*) override;
  grpc::Status GetOOMEvents(grpc::ServerContext*, const pb::GetOOMEventsRequest*,
                            grpc::ServerWriter<pb::OOMEvent>*) override;
  grpc::Status ReadAgentLog(grpc::ServerContext*, const pb::ReadAgentLogRequest*,
                            pb::ReadAgentLogResponse*) override;

 private:
  grpc::Status read_stream(grpc::ServerContext* ctx, const pb::ProcessRequest* req,
                           runtime::OutputStream which,
                           grpc::ServerWriter<pb::OutputChunk>* writer);

  runtime::Runtime& rt_;
  Sandbox& sandbox_;
  std::function<void()> shutdown_;
  const LogRing& log_;
};

}  // namespace hull::service
