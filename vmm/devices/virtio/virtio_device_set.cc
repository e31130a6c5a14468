#include "devices/virtio/virtio_device_set.h"

#include <set>

#include "devices/virtio/device_error.h"
#include "devices/virtio/disk_image.h"
#include "devices/virtio/tap_device.h"
#include "devices/virtio/virtio_net.h"
#include "devices/virtio/virtio_rng.h"
#include "devices/virtio/virtio_vsock.h"
#include "io/io_error.h"
#include "io/unix_socket.h"

namespace hull::vmm::virtio {
namespace {

BlockOptions ToBlockOptions(const config::DriveConfig& d) {
  BlockOptions o;
  o.path = d.path_on_host;
  o.read_only = d.is_read_only;
  o.serial = d.drive_id.substr(0, 20);  // GET_ID answers the drive id, as Firecracker does
  return o;
}

NetOptions ToNetOptions(const config::NetworkInterfaceConfig& n) {
  NetOptions o;
  o.tap_name = n.host_dev_name;
  if (n.guest_mac) {
    o.mac = ParseMac(*n.guest_mac);
    if (!o.mac) throw DeviceError("guest_mac '" + *n.guest_mac + "' is not a MAC like 06:00:ac:10:00:02");
    if ((*o.mac)[0] & 1) throw DeviceError("guest_mac '" + *n.guest_mac + "' is a multicast address: use a unicast one");
  }
  return o;
}

template <typename Fn>
auto Named(const std::string& what, Fn&& fn) {
  try {
    return fn();
  } catch (const DeviceError& e) {
    throw DeviceError(what + ": " + e.what());
  }
}

}  // namespace

void CheckDrive(const config::DriveConfig& drive) {
  Named("drive '" + drive.drive_id + "'", [&] {
    const BlockOptions o = ToBlockOptions(drive);
    DiskImage probe(o.path, o.read_only, o.direct_io);
    return 0;
  });
}

void CheckNetworkInterface(const config::NetworkInterfaceConfig& iface) {
  Named("network interface '" + iface.iface_id + "'", [&] {
    const NetOptions o = ToNetOptions(iface);
    TapDevice probe(o.tap_name);
    return 0;
  });
}

void CheckVsock(const config::VsockConfig& vsock) {
  if (vsock.guest_cid < 3) throw DeviceError("vsock: guest_cid must be 3 or more");
  try {
    io::CheckUnixListenPath(vsock.uds_path);
  } catch (const io::IoError& e) {
    throw DeviceError(std::string("vsock uds_path: ") + e.what());
  }
}

void CheckDeviceSet(const config::VmConfig& config) {
  int roots = 0;
  for (const auto& d : config.drives) roots += d.is_root_device ? 1 : 0;
  if (roots > 1) throw DeviceError("more than one drive has is_root_device true: only one can be the root");
  std::set<std::string> taps;
  for (const auto& n : config.network_interfaces) {
    if (!taps.insert(n.host_dev_name).second) {
      throw DeviceError("network interface '" + n.iface_id + "': tap '" + n.host_dev_name +
                        "' is already used by another interface");
    }
  }
}

VirtioDeviceSet::VirtioDeviceSet(std::function<void()> block_worker_setup)
    : block_worker_setup_(std::move(block_worker_setup)), loop_(std::make_shared<io::EventLoop>()) {}

VirtioDeviceSet::~VirtioDeviceSet() { loop_->Stop(); }

std::vector<VirtioDeviceSet::Built> VirtioDeviceSet::Build(const config::VmConfig& config, bool entropy) {
  CheckDeviceSet(config);
  std::vector<Built> built;
  std::vector<const config::DriveConfig*> drives;
  for (const auto& d : config.drives) {
    if (d.is_root_device) drives.insert(drives.begin(), &d);
    else drives.push_back(&d);
  }
  for (const auto* d : drives) {
    built.push_back({d->drive_id, Named("drive '" + d->drive_id + "'", [&] {
                       BlockOptions o = ToBlockOptions(*d);
                       o.worker_setup = block_worker_setup_;
                       return std::static_pointer_cast<VirtioDevice>(std::make_shared<VirtioBlock>(o, *loop_));
                     })});
  }
  for (const auto& n : config.network_interfaces) {
    built.push_back({"", Named("network interface '" + n.iface_id + "'", [&] {
                       return std::static_pointer_cast<VirtioDevice>(
                           std::make_shared<VirtioNet>(ToNetOptions(n), *loop_));
                     })});
  }
  if (config.vsock) {
    built.push_back({"", std::make_shared<VirtioVsock>(VsockOptions{config.vsock->guest_cid, config.vsock->uds_path},
                                                       *loop_)});
  }
  if (entropy) built.push_back({"", std::make_shared<VirtioRng>()});
  if (config.balloon) {
    if (config.balloon->amount_mib > config.machine_config.mem_size_mib) {
      throw DeviceError("balloon: amount_mib " + std::to_string(config.balloon->amount_mib) +
                        " is more than the guest's " + std::to_string(config.machine_config.mem_size_mib) +
                        " MiB; lower it with PUT /balloon");
    }
    built.push_back({"", std::make_shared<VirtioBalloon>(BalloonOptions{
                             config.balloon->amount_mib, config.balloon->deflate_on_oom,
                             config.balloon->free_page_reporting})});
  }
  return built;
}

void VirtioDeviceSet::Keep(const Built& built, std::shared_ptr<MmioTransport> transport) {
  if (!built.drive_id.empty()) drives_[built.drive_id] = std::static_pointer_cast<VirtioBlock>(built.device);
  if (built.device->device_type() == kDeviceTypeBalloon)
    balloon_ = std::static_pointer_cast<VirtioBalloon>(built.device);
  transports_.push_back(std::move(transport));
}

void VirtioDeviceSet::ReplaceDriveImage(const std::string& drive_id, const std::string& path) {
  auto it = drives_.find(drive_id);
  if (it == drives_.end()) throw DeviceError("no drive '" + drive_id + "' is attached");
  Named("drive '" + drive_id + "'", [&] {
    it->second->ReplaceImage(path);
    return 0;
  });
}

void VirtioDeviceSet::SetBalloonTarget(uint32_t amount_mib) {
  if (!balloon_) throw DeviceError("this microVM has no balloon: add one with PUT /balloon before InstanceStart");
  balloon_->SetTarget(amount_mib);
}

std::optional<BalloonCounters> VirtioDeviceSet::BalloonStats() const {
  if (!balloon_) return std::nullopt;
  return balloon_->counters();
}

}  // namespace hull::vmm::virtio
