// PUT /boot-source: the kernel, initrd and command line. Files are checked
// at InstanceStart, when they are read.
#include "api/endpoints.h"
#include "config/vm_config.h"

namespace hull::vmm::api {

void AddBootSourceRoutes(Router& router) {
  router.Add("PUT", "/boot-source", [](const ApiRequest& request, VmController& vm) {
    RequireNotStarted(vm, "boot-source");
    vm.mutable_config().boot_source = config::ParseBootSource(ParseJsonBody(request));
    return ApiResponse{};
  });
}

}  // namespace hull::vmm::api
