// GET /: who and what state this microVM is (Firecracker's InstanceInfo).
#include "api/endpoints.h"

namespace hull::vmm::api {

void AddInstanceInfoRoutes(Router& router) {
  router.Add("GET", "/", [](const ApiRequest&, VmController& vm) {
    return ApiResponse{200, nlohmann::json{{"id", vm.instance_id()},
                                           {"state", VmStateName(vm.state())},
                                           {"vmm_version", HULL_VERSION},
                                           {"app_name", "hull-vmm"}}};
  });
}

}  // namespace hull::vmm::api
