// PUT /drives/{id}: add or replace a virtio-blk drive before boot; the
// image is opened once to check it (missing, unreadable, not writable for a
// read-write drive) so errors come back here, not at InstanceStart.
// PATCH /drives/{id}: point an existing drive at another image.
#include "api/api_error.h"
#include "api/endpoints.h"
#include "config/field_reader.h"
#include "config/vm_config.h"
#include "devices/virtio/virtio_device_set.h"

namespace hull::vmm::api {
namespace {

config::DriveConfig* FindDrive(config::VmConfig& config, const std::string& id) {
  for (auto& d : config.drives) {
    if (d.drive_id == id) return &d;
  }
  return nullptr;
}

void RequireIdMatches(const std::string& path_id, const std::string& body_id) {
  if (path_id != body_id) {
    throw ApiError(400, "drive_id '" + body_id + "' in the body does not match '" + path_id + "' in the path");
  }
}

}  // namespace

void AddDrivesRoutes(Router& router) {
  router.Add("PUT", "/drives/{id}", [](const ApiRequest& request, VmController& vm) {
    RequireNotStarted(vm, "drives");
    config::DriveConfig drive = config::ParseDrive(ParseJsonBody(request));
    RequireIdMatches(request.params.at("id"), drive.drive_id);
    virtio::CheckDrive(drive);
    config::VmConfig next = vm.mutable_config();
    config::UpsertDrive(next, drive);
    virtio::CheckDeviceSet(next);  // e.g. a second root device
    vm.mutable_config() = std::move(next);
    return ApiResponse{};
  });
  router.Add("PATCH", "/drives/{id}", [](const ApiRequest& request, VmController& vm) {
    const nlohmann::json body = ParseJsonBody(request);  // FieldReader keeps a reference
    config::FieldReader r(body, "drives");
    const std::string id = r.RequiredString("drive_id");
    RequireIdMatches(request.params.at("id"), id);
    const auto path = r.String("path_on_host");
    r.Unsupported("rate_limiter", "no I/O rate limiting");
    r.RejectUnknown();
    config::DriveConfig* drive = FindDrive(vm.mutable_config(), id);
    if (drive == nullptr) throw ApiError(400, "no drive '" + id + "': add it with PUT /drives/" + id + " first");
    if (!path) return ApiResponse{};
    config::DriveConfig updated = *drive;
    updated.path_on_host = *path;
    virtio::CheckDrive(updated);
    if (vm.state() != VmState::kNotStarted) vm.UpdateDriveImage(id, *path);
    *drive = std::move(updated);
    return ApiResponse{};
  });
}

}  // namespace hull::vmm::api
