// PATCH /vm (pause/resume) and GET /vm/config (the whole configuration).
#include "api/api_error.h"
#include "api/endpoints.h"
#include "config/field_reader.h"

namespace hull::vmm::api {

void AddVmRoutes(Router& router) {
  router.Add("PATCH", "/vm", [](const ApiRequest& request, VmController& vm) {
    const auto body = ParseJsonBody(request);
    config::FieldReader reader(body, "vm", {"state"});
    const std::string state = reader.RequiredString("state");
    reader.RejectUnknown();
    if (vm.state() == VmState::kNotStarted)
      throw ApiError(400, "vm.state: the microVM is not running yet");
    if (state == "Paused") {
      vm.Pause();
    } else if (state == "Resumed") {
      vm.Resume();
    } else {
      throw ApiError(400, "vm.state: '" + state + "' is not one of: Paused, Resumed");
    }
    return ApiResponse{};
  });
  router.Add("GET", "/vm/config", [](const ApiRequest&, VmController& vm) {
    return ApiResponse{200, config::ToJson(vm.mutable_config())};
  });
}

}  // namespace hull::vmm::api
