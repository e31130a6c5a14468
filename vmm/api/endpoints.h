// One function per endpoint file; all_routes.cc calls them all. To add an
// endpoint (e.g. /drives/{id}): write <name>_endpoint.cc with
// Add<Name>Routes, declare it here, add one line to all_routes.cc.
#pragma once

#include "api/router.h"

namespace hull::vmm::api {

void AddInstanceInfoRoutes(Router& router);       // GET /
void AddMachineConfigRoutes(Router& router);      // GET/PUT/PATCH /machine-config
void AddBootSourceRoutes(Router& router);         // PUT /boot-source
void AddActionsRoutes(Router& router);            // PUT /actions
void AddVmRoutes(Router& router);                 // PATCH /vm, GET /vm/config
void AddMetricsRoutes(Router& router);            // PUT /metrics
void AddDrivesRoutes(Router& router);             // PUT/PATCH /drives/{id}
void AddNetworkInterfacesRoutes(Router& router);  // PUT /network-interfaces/{id}
void AddVsockRoutes(Router& router);              // PUT /vsock
void AddEntropyRoutes(Router& router);            // PUT /entropy
void AddBalloonRoutes(Router& router);            // PUT/PATCH/GET /balloon
void AddFsRoutes(Router& router);                 // PUT /fs/{tag}

}  // namespace hull::vmm::api
