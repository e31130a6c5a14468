// PUT /network-interfaces/{id}: a virtio-net device on a tap. The tap is
// opened once to check it (exists or can be created, not busy) so errors
// come back here, not at InstanceStart.
#include "api/api_error.h"
#include "api/endpoints.h"
#include "config/vm_config.h"
#include "devices/virtio/virtio_device_set.h"

namespace hull::vmm::api {

void AddNetworkInterfacesRoutes(Router& router) {
  router.Add("PUT", "/network-interfaces/{id}", [](const ApiRequest& request, VmController& vm) {
    RequireNotStarted(vm, "network-interfaces");
    config::NetworkInterfaceConfig iface = config::ParseNetworkInterface(ParseJsonBody(request));
    if (iface.iface_id != request.params.at("id")) {
      throw ApiError(400, "iface_id '" + iface.iface_id + "' in the body does not match '" +
                              request.params.at("id") + "' in the path");
    }
    config::VmConfig next = vm.mutable_config();
    config::UpsertNetworkInterface(next, iface);
    virtio::CheckDeviceSet(next);  // one interface per tap
    virtio::CheckNetworkInterface(iface);
    vm.mutable_config() = std::move(next);
    return ApiResponse{};
  });
}

}  // namespace hull::vmm::api
