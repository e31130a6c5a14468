// PUT /entropy: a virtio-rng device (the guest's /dev/hwrng, fed from the
// host's getrandom). Firecracker's body; its rate_limiter is refused.
#include "api/endpoints.h"
#include "config/vm_config.h"

namespace hull::vmm::api {

void AddEntropyRoutes(Router& router) {
  router.Add("PUT", "/entropy", [](const ApiRequest& request, VmController& vm) {
    RequireNotStarted(vm, "entropy");
    vm.mutable_config().entropy = config::ParseEntropy(ParseJsonBody(request));
    return ApiResponse{};
  });
}

}  // namespace hull::vmm::api
