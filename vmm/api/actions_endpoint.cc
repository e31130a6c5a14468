// PUT /actions: InstanceStart, SendCtrlAltDel, FlushMetrics.
#include "api/api_error.h"
#include "api/endpoints.h"
#include "config/field_reader.h"

namespace hull::vmm::api {

void AddActionsRoutes(Router& router) {
  router.Add("PUT", "/actions", [](const ApiRequest& request, VmController& vm) {
    const auto body = ParseJsonBody(request);
    config::FieldReader reader(body, "actions", {"action_type"});
    const std::string action = reader.RequiredString("action_type");
    reader.RejectUnknown();
    if (action == "InstanceStart") {
      if (vm.state() != VmState::kNotStarted)
        throw ApiError(400, "InstanceStart: the microVM is already running");
      vm.InstanceStart();
    } else if (action == "SendCtrlAltDel") {
      if (vm.state() == VmState::kNotStarted)
        throw ApiError(400, "SendCtrlAltDel: the microVM is not running");
      vm.SendCtrlAltDel();
    } else if (action == "FlushMetrics") {
      vm.FlushMetrics();
    } else {
      throw ApiError(400, "actions.action_type: '" + action +
                              "' is not one of: InstanceStart, SendCtrlAltDel, FlushMetrics");
    }
    return ApiResponse{};
  });
}

}  // namespace hull::vmm::api
