// What the API endpoints act on: the pre-boot configuration and the running
// VM. hull-vmm's main implements it; API unit tests use a fake, so
// "request -> state" is testable without KVM. Methods are called on the API
// thread only. Failures throw (ApiError for a chosen status, anything else
// becomes 400 with its message).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "api/api_error.h"
#include "config/vm_config.h"

namespace hull::vmm::api {

enum class VmState { kNotStarted, kRunning, kPaused };

inline const char* VmStateName(VmState state) {
  switch (state) {
    case VmState::kNotStarted:
      return "Not started";
    case VmState::kRunning:
      return "Running";
    case VmState::kPaused:
      return "Paused";
  }
  return "Unknown";
}

class VmController {
 public:
  virtual ~VmController() = default;

  virtual VmState state() const = 0;
  virtual std::string instance_id() const = 0;
  // The configuration; endpoints change it only before InstanceStart.
  virtual config::VmConfig& mutable_config() = 0;
  virtual config::HostLimits host_limits() const = 0;

  virtual void InstanceStart() = 0;
  virtual void Pause() = 0;
  virtual void Resume() = 0;
  virtual void SendCtrlAltDel() = 0;
  virtual void FlushMetrics() = 0;
  // Points a running (or paused) VM's drive at another image file, as
  // Firecracker's PATCH /drives does; the guest gets a config-change interrupt.
  virtual void UpdateDriveImage(const std::string& drive_id, const std::string& path) = 0;
  // PATCH /balloon on a running VM: the guest gets a new target and a
  // config-change interrupt. Controllers without a balloon keep the default.
  virtual void UpdateBalloon(uint32_t /*amount_mib*/) {
    throw ApiError(400, "this VMM cannot change a balloon at run time");
  }
  // GET /balloon/statistics: what the balloon device counted so far.
  virtual nlohmann::json BalloonStatistics() const {
    throw ApiError(400, "balloon statistics are available once the microVM runs");
  }
};

}  // namespace hull::vmm::api
