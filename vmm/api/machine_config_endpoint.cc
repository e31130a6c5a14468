// /machine-config: vCPUs and memory, checked against what this host's KVM allows.
#include "api/endpoints.h"
#include "config/vm_config.h"

namespace hull::vmm::api {
namespace {

ApiResponse Apply(VmController& vm, const config::MachineConfig& machine) {
  config::ValidateMachineConfig(machine, vm.host_limits());
  vm.mutable_config().machine_config = machine;
  return {};
}

}  // namespace

void AddMachineConfigRoutes(Router& router) {
  router.Add("GET", "/machine-config", [](const ApiRequest&, VmController& vm) {
    return ApiResponse{200, config::ToJson(vm.mutable_config())["machine-config"]};
  });
  router.Add("PUT", "/machine-config", [](const ApiRequest& request, VmController& vm) {
    RequireNotStarted(vm, "machine-config");
    return Apply(vm, config::ParseMachineConfig(ParseJsonBody(request)));
  });
  router.Add("PATCH", "/machine-config", [](const ApiRequest& request, VmController& vm) {
    RequireNotStarted(vm, "machine-config");
    return Apply(
        vm, config::PatchMachineConfig(ParseJsonBody(request), vm.mutable_config().machine_config));
  });
}

}  // namespace hull::vmm::api
