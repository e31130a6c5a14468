// The virtio devices of one VM, built from its configuration (drives,
// network interfaces, vsock, entropy, balloon), and the I/O thread that
// serves them.
//
// AttachFromConfig() is all-or-nothing: every back end is opened first (any
// failure throws DeviceError naming the device and leaves nothing behind),
// then every slot is allocated, then the devices go onto the bus. `Slots` is
// duck-typed so this library does not depend on the VMM's main: it needs
//   auto Allocate() -> {base, irq_line (shared_ptr<IrqLine>)}   (throws when full)
//   void Attach(const Slot&, std::shared_ptr<IoHandler>)
// which vmm/main's MmioSlots provides. Order on the bus: the root drive
// first (/dev/vda), other drives, network interfaces, vsock, rng, balloon.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bus/irq.h"
#include "config/vm_config.h"
#include "devices/virtio/virtio_balloon.h"
#include "devices/virtio/virtio_blk.h"
#include "io/event_loop.h"
#include "memory/guest_memory.h"
#include "virtio/mmio_transport.h"

namespace hull::vmm::virtio {

// Pre-boot checks for the API (PUT /drives, /network-interfaces, /vsock):
// open the back end the way the device will and close it again. Throw
// DeviceError with a message for the user.
void CheckDrive(const config::DriveConfig& drive);
void CheckNetworkInterface(const config::NetworkInterfaceConfig& iface);
void CheckVsock(const config::VsockConfig& vsock);
// Rules across devices: one root drive, one interface per tap. Throws
// DeviceError.
void CheckDeviceSet(const config::VmConfig& config);

class VirtioDeviceSet {
 public:
  // `block_worker_setup` runs first on every disk's I/O worker threads
  // (their seccomp filter; they are started while the devices are built).
  explicit VirtioDeviceSet(std::function<void()> block_worker_setup = {});
  ~VirtioDeviceSet();  // stops the I/O thread before the devices go
  VirtioDeviceSet(const VirtioDeviceSet&) = delete;
  VirtioDeviceSet& operator=(const VirtioDeviceSet&) = delete;

  template <typename Slots>
  void AttachFromConfig(const config::VmConfig& config, const GuestMemory& memory, IoEventRegistrar* ioevents,
                        Slots& slots, bool entropy) {
    std::vector<Built> built = Build(config, entropy);
    std::vector<decltype(slots.Allocate())> allocated;
    allocated.reserve(built.size());
    for (size_t i = 0; i < built.size(); ++i) allocated.push_back(slots.Allocate());
    for (size_t i = 0; i < built.size(); ++i) {
      auto transport = std::make_shared<MmioTransport>(built[i].device, memory, allocated[i].irq_line, loop_,
                                                       allocated[i].base, ioevents);
      slots.Attach(allocated[i], transport);
      Keep(built[i], std::move(transport));
    }
  }

  // Starts the I/O thread (after attaching, before the vCPUs run).
  // `io_thread_setup` runs on the I/O thread before its loop (seccomp).
  void Start(std::function<void()> io_thread_setup = {}) { loop_->Start(std::move(io_thread_setup)); }

  // PATCH /drives/{id} on a running VM: the drive now reads `path`.
  // Throws DeviceError (unknown id, image that does not open).
  void ReplaceDriveImage(const std::string& drive_id, const std::string& path);

  // PATCH /balloon on a running VM. Throws DeviceError when the VM has no
  // balloon.
  void SetBalloonTarget(uint32_t amount_mib);
  // The balloon's counters; nullopt when the VM has none.
  std::optional<BalloonCounters> BalloonStats() const;

  size_t size() const { return transports_.size(); }

 private:
  struct Built {
    std::string drive_id;  // empty unless a drive
    std::shared_ptr<VirtioDevice> device;
  };
  std::vector<Built> Build(const config::VmConfig& config, bool entropy);
  void Keep(const Built& built, std::shared_ptr<MmioTransport> transport);

  std::function<void()> block_worker_setup_;
  std::shared_ptr<io::EventLoop> loop_;
  std::map<std::string, std::shared_ptr<VirtioBlock>> drives_;
  std::shared_ptr<VirtioBalloon> balloon_;
  std::vector<std::shared_ptr<MmioTransport>> transports_;
};

}  // namespace hull::vmm::virtio
