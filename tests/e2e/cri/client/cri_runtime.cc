#include "cri_runtime.h"

#include "cri_error.h"

namespace hull::cri {
namespace v1 = runtime::v1;

namespace {

void Check(const grpc::Status& status, const std::string& call, const std::string& endpoint) {
  if (status.ok()) return;
  std::string hint;
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    hint = " (is containerd running with its CRI plugin enabled on " + endpoint + "?)";
  } else if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    hint = " (the CRI plugin of this containerd does not serve runtime.v1: is it disabled in its config?)";
  } else if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    hint = " (raise --timeout if the runtime is slow, e.g. under nested virtualization)";
  }
  throw CriError(call + " failed: " + std::to_string(static_cast<int>(status.error_code())) + " " +
                 status.error_message() + hint);
}

}  // namespace

std::string GrpcTarget(const std::string& endpoint) {
  if (endpoint.find("://") != std::string::npos) return endpoint;
  if (!endpoint.empty() && endpoint[0] == '/') return "unix://" + endpoint;
  throw CriError("endpoint '" + endpoint + "' is neither a unix:// URI nor an absolute socket path");
}

CriRuntime::CriRuntime(const std::string& endpoint, std::chrono::seconds timeout)
    : endpoint_(endpoint),
      timeout_(timeout),
      stub_(v1::RuntimeService::NewStub(grpc::CreateChannel(GrpcTarget(endpoint), grpc::InsecureChannelCredentials()))) {}

std::unique_ptr<grpc::ClientContext> CriRuntime::Context(std::chrono::seconds extra) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout_ + extra);
  return context;
}

v1::VersionResponse CriRuntime::Version() {
  v1::VersionRequest request;
  v1::VersionResponse response;
  Check(stub_->Version(Context().get(), request, &response), "Version", endpoint_);
  return response;
}

v1::RunPodSandboxResponse CriRuntime::RunPodSandbox(const v1::RunPodSandboxRequest& request) {
  v1::RunPodSandboxResponse response;
  Check(stub_->RunPodSandbox(Context().get(), request, &response), "RunPodSandbox", endpoint_);
  return response;
}

v1::PodSandboxStatusResponse CriRuntime::PodSandboxStatus(const std::string& pod_id) {
  v1::PodSandboxStatusRequest request;
  request.set_pod_sandbox_id(pod_id);
  v1::PodSandboxStatusResponse response;
  Check(stub_->PodSandboxStatus(Context().get(), request, &response), "PodSandboxStatus " + pod_id, endpoint_);
  return response;
}

void CriRuntime::StopPodSandbox(const std::string& pod_id) {
  v1::StopPodSandboxRequest request;
  request.set_pod_sandbox_id(pod_id);
  v1::StopPodSandboxResponse response;
  Check(stub_->StopPodSandbox(Context().get(), request, &response), "StopPodSandbox " + pod_id, endpoint_);
}

void CriRuntime::RemovePodSandbox(const std::string& pod_id) {
  v1::RemovePodSandboxRequest request;
  request.set_pod_sandbox_id(pod_id);
  v1::RemovePodSandboxResponse response;
  Check(stub_->RemovePodSandbox(Context().get(), request, &response), "RemovePodSandbox " + pod_id, endpoint_);
}

v1::CreateContainerResponse CriRuntime::CreateContainer(const v1::CreateContainerRequest& request) {
  v1::CreateContainerResponse response;
  Check(stub_->CreateContainer(Context().get(), request, &response), "CreateContainer", endpoint_);
  return response;
}

void CriRuntime::StartContainer(const std::string& container_id) {
  v1::StartContainerRequest request;
  request.set_container_id(container_id);
  v1::StartContainerResponse response;
  Check(stub_->StartContainer(Context().get(), request, &response), "StartContainer " + container_id, endpoint_);
}

void CriRuntime::StopContainer(const std::string& container_id, int64_t timeout_s) {
  v1::StopContainerRequest request;
  request.set_container_id(container_id);
  request.set_timeout(timeout_s);
  v1::StopContainerResponse response;
  Check(stub_->StopContainer(Context(std::chrono::seconds(timeout_s)).get(), request, &response),
        "StopContainer " + container_id, endpoint_);
}

void CriRuntime::RemoveContainer(const std::string& container_id) {
  v1::RemoveContainerRequest request;
  request.set_container_id(container_id);
  v1::RemoveContainerResponse response;
  Check(stub_->RemoveContainer(Context().get(), request, &response), "RemoveContainer " + container_id, endpoint_);
}

v1::ContainerStatusResponse CriRuntime::ContainerStatus(const std::string& container_id) {
  v1::ContainerStatusRequest request;
  request.set_container_id(container_id);
  v1::ContainerStatusResponse response;
  Check(stub_->ContainerStatus(Context().get(), request, &response), "ContainerStatus " + container_id, endpoint_);
  return response;
}

v1::ExecSyncResponse CriRuntime::ExecSync(const v1::ExecSyncRequest& request) {
  v1::ExecSyncResponse response;
  // The command's own timeout comes on top of the call's.
  Check(stub_->ExecSync(Context(std::chrono::seconds(request.timeout())).get(), request, &response),
        "ExecSync in " + request.container_id(), endpoint_);
  return response;
}

v1::ContainerStatsResponse CriRuntime::ContainerStats(const std::string& container_id) {
  v1::ContainerStatsRequest request;
  request.set_container_id(container_id);
  v1::ContainerStatsResponse response;
  Check(stub_->ContainerStats(Context().get(), request, &response), "ContainerStats " + container_id, endpoint_);
  return response;
}

void CriRuntime::UpdateContainerResources(const v1::UpdateContainerResourcesRequest& request) {
  v1::UpdateContainerResourcesResponse response;
  Check(stub_->UpdateContainerResources(Context().get(), request, &response),
        "UpdateContainerResources " + request.container_id(), endpoint_);
}

v1::ListPodSandboxResponse CriRuntime::ListPodSandbox() {
  v1::ListPodSandboxRequest request;
  v1::ListPodSandboxResponse response;
  Check(stub_->ListPodSandbox(Context().get(), request, &response), "ListPodSandbox", endpoint_);
  return response;
}

v1::ListContainersResponse CriRuntime::ListContainers() {
  v1::ListContainersRequest request;
  v1::ListContainersResponse response;
  Check(stub_->ListContainers(Context().get(), request, &response), "ListContainers", endpoint_);
  return response;
}

}  // namespace hull::cri
