// A thin client of the CRI RuntimeService (runtime.v1) on containerd's gRPC
// socket: one call per method the tests need, each with a deadline, each
// failure a CriError naming the call and the status containerd returned.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "runtime/v1/api.grpc.pb.h"

namespace hull::cri {

class CriRuntime {
 public:
  // `endpoint`: "unix:///path/to/containerd.sock" or a plain socket path.
  CriRuntime(const std::string& endpoint, std::chrono::seconds timeout);

  runtime::v1::VersionResponse Version();
  runtime::v1::RunPodSandboxResponse RunPodSandbox(const runtime::v1::RunPodSandboxRequest& request);
  runtime::v1::PodSandboxStatusResponse PodSandboxStatus(const std::string& pod_id);
  void StopPodSandbox(const std::string& pod_id);
  void RemovePodSandbox(const std::string& pod_id);
  runtime::v1::CreateContainerResponse CreateContainer(const runtime::v1::CreateContainerRequest& request);
  void StartContainer(const std::string& container_id);
  void StopContainer(const std::string& container_id, int64_t timeout_s);
  void RemoveContainer(const std::string& container_id);
  runtime::v1::ContainerStatusResponse ContainerStatus(const std::string& container_id);
  runtime::v1::ExecSyncResponse ExecSync(const runtime::v1::ExecSyncRequest& request);
  runtime::v1::ContainerStatsResponse ContainerStats(const std::string& container_id);
  void UpdateContainerResources(const runtime::v1::UpdateContainerResourcesRequest& request);
  runtime::v1::ListPodSandboxResponse ListPodSandbox();
  runtime::v1::ListContainersResponse ListContainers();

 private:
  std::unique_ptr<grpc::ClientContext> Context(std::chrono::seconds extra = std::chrono::seconds(0)) const;

  std::string endpoint_;
  std::chrono::seconds timeout_;
  std::unique_ptr<runtime::v1::RuntimeService::Stub> stub_;
};

// "unix:///run/x.sock" for a plain path; other URIs unchanged.
std::string GrpcTarget(const std::string& endpoint);

}  // namespace hull::cri
