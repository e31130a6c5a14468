#include "api/endpoints.h"

namespace hull::vmm::api {

Router MakeRouter() {
  Router router;
  AddInstanceInfoRoutes(router);
  AddMachineConfigRoutes(router);
  AddBootSourceRoutes(router);
  AddActionsRoutes(router);
  AddVmRoutes(router);
  AddMetricsRoutes(router);
  AddDrivesRoutes(router);
  AddNetworkInterfacesRoutes(router);
  AddVsockRoutes(router);
  AddEntropyRoutes(router);
  AddBalloonRoutes(router);
  AddFsRoutes(router);
  return router;
}

}  // namespace hull::vmm::api
