// The CLI's GuestNetwork (sandbox/bundle_runner.h): the shim's pod network
// (vm_sandbox/pod_network.h) for a bundle whose config.json names a network
// namespace path, as Podman's `--network ns:PATH` and its CNI/netavark
// networks give one. Same taps, tc mirrors and guest addresses as the shim.
#pragma once

#include "sandbox/bundle_runner.h"
#include "sandbox/container_store.h"

namespace hull::cli {

// The factory `create` and `run` hand to the sandbox code.
shim::GuestNetworkFactory PodGuestNetworkFactory();

// Removes the taps and tc mirrors a container's record names (what its keeper
// sets up and normally removes itself); for `delete` after a killed keeper.
// Failures (already gone, namespace deleted) are ignored.
void RemoveRecordedMirrors(const shim::ContainerRecord& record);

}  // namespace hull::cli
