// PUT /metrics: where FlushMetrics (and the exit) write the metrics JSON.
#include "api/endpoints.h"
#include "config/vm_config.h"

namespace hull::vmm::api {

void AddMetricsRoutes(Router& router) {
  router.Add("PUT", "/metrics", [](const ApiRequest& request, VmController& vm) {
    RequireNotStarted(vm, "metrics");
    vm.mutable_config().metrics = config::ParseMetrics(ParseJsonBody(request));
    return ApiResponse{};
  });
}

}  // namespace hull::vmm::api
