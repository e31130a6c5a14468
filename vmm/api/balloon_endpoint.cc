// PUT /balloon (before boot): a virtio-balloon device, Firecracker's body
// (amount_mib, deflate_on_oom, stats_polling_interval_s = 0, and
// free_page_reporting, which returns the guest's free memory to the host).
// PATCH /balloon {"amount_mib": N}: a new target, before or after boot.
// GET /balloon: the configuration; GET /balloon/statistics: hull's own
// counters (Firecracker's guest statistics are not implemented).
#include "api/api_error.h"
#include "api/endpoints.h"
#include "config/vm_config.h"

namespace hull::vmm::api {
namespace {

config::BalloonConfig& RequireBalloon(VmController& vm) {
  auto& balloon = vm.mutable_config().balloon;
  if (!balloon) throw ApiError(400, "no balloon: add one with PUT /balloon before InstanceStart");
  return *balloon;
}

}  // namespace

void AddBalloonRoutes(Router& router) {
  router.Add("PUT", "/balloon", [](const ApiRequest& request, VmController& vm) {
    RequireNotStarted(vm, "balloon");
    config::BalloonConfig balloon = config::ParseBalloon(ParseJsonBody(request));
    config::ValidateBalloonTarget(balloon.amount_mib, vm.mutable_config().machine_config);
    vm.mutable_config().balloon = balloon;
    return ApiResponse{};
  });
  router.Add("PATCH", "/balloon", [](const ApiRequest& request, VmController& vm) {
    const uint32_t amount = config::ParseBalloonUpdate(ParseJsonBody(request));
    config::BalloonConfig& balloon = RequireBalloon(vm);
    config::ValidateBalloonTarget(amount, vm.mutable_config().machine_config);
    if (vm.state() != VmState::kNotStarted) vm.UpdateBalloon(amount);
    balloon.amount_mib = amount;
    return ApiResponse{};
  });
  router.Add("GET", "/balloon", [](const ApiRequest&, VmController& vm) {
    RequireBalloon(vm);
    return ApiResponse{200, config::ToJson(vm.mutable_config())["balloon"]};
  });
  router.Add("GET", "/balloon/statistics", [](const ApiRequest&, VmController& vm) {
    RequireBalloon(vm);
    return ApiResponse{200, vm.BalloonStatistics()};
  });
}

}  // namespace hull::vmm::api
