// PUT /fs/{tag}: share a host directory with the guest through virtio-fs
// before boot ({"tag", "path", "read_only"}); the directory is opened once
// to check it, so a missing one is reported here, not at InstanceStart.
// Putting the same tag again replaces that share.
#include "api/api_error.h"
#include "api/endpoints.h"
#include "config/vm_config.h"
#include "devices/virtio/virtio_fs_set.h"

namespace hull::vmm::api {

void AddFsRoutes(Router& router) {
  router.Add("PUT", "/fs/{tag}", [](const ApiRequest& request, VmController& vm) {
    RequireNotStarted(vm, "fs");
    config::FsConfig fs = config::ParseFs(ParseJsonBody(request));
    if (fs.tag != request.params.at("tag")) {
      throw ApiError(400, "tag '" + fs.tag + "' in the body does not match '" + request.params.at("tag") +
                              "' in the path");
    }
    virtio::CheckFs(fs);
    config::UpsertFs(vm.mutable_config(), std::move(fs));
    return ApiResponse{};
  });
}

}  // namespace hull::vmm::api
