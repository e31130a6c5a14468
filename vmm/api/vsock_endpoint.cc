// PUT /vsock: the virtio-vsock device; its host side is the unix socket
// uds_path (Firecracker's hybrid vsock). The path is checked now (directory
// exists, no live socket there) so errors come back here.
#include "api/endpoints.h"
#include "config/vm_config.h"
#include "devices/virtio/virtio_device_set.h"

namespace hull::vmm::api {

void AddVsockRoutes(Router& router) {
  router.Add("PUT", "/vsock", [](const ApiRequest& request, VmController& vm) {
    RequireNotStarted(vm, "vsock");
    config::VsockConfig vsock = config::ParseVsock(ParseJsonBody(request));
    virtio::CheckVsock(vsock);
    vm.mutable_config().vsock = std::move(vsock);
    return ApiResponse{};
  });
}

}  // namespace hull::vmm::api
