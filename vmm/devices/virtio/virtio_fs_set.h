// The VM's virtio-fs devices (one per shared directory) and the thread that
// serves them: file system calls can block for long (a slow disk, a network
// file system on the host), so they get their own event loop instead of
// the I/O thread of the other virtio devices.
//
// AttachFromConfig() is all-or-nothing like VirtioDeviceSet's: every share
// is opened first (DeviceError naming it), then slots are allocated.
// `Slots` is the same duck type (Allocate()/Attach()).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "config/vm_config.h"
#include "devices/virtio/virtio_fs.h"
#include "io/event_loop.h"
#include "memory/guest_memory.h"
#include "virtio/mmio_transport.h"

namespace hull::vmm::virtio {

// Pre-boot checks for the API and the command line: the share opens as
// the device will open it. Throws DeviceError.
void CheckFs(const config::FsConfig& fs);
// Tags are unique. Throws DeviceError.
void CheckFsSet(const std::vector<config::FsConfig>& shares);

class VirtioFsSet {
 public:
  VirtioFsSet();
  ~VirtioFsSet();  // stops the thread before the devices go
  VirtioFsSet(const VirtioFsSet&) = delete;
  VirtioFsSet& operator=(const VirtioFsSet&) = delete;

  template <typename Slots>
  void AttachFromConfig(const std::vector<config::FsConfig>& shares, const GuestMemory& memory,
                        IoEventRegistrar* ioevents, Slots& slots) {
    std::vector<std::shared_ptr<VirtioFs>> built = Build(shares);
    std::vector<decltype(slots.Allocate())> allocated;
    allocated.reserve(built.size());
    for (size_t i = 0; i < built.size(); ++i) allocated.push_back(slots.Allocate());
    for (size_t i = 0; i < built.size(); ++i) {
      auto transport = std::make_shared<MmioTransport>(built[i], memory, allocated[i].irq_line, loop_,
                                                       allocated[i].base, ioevents);
      slots.Attach(allocated[i], transport);
      transports_.push_back(std::move(transport));
    }
  }

  // Starts the file system thread when there is a share; `thread_setup`
  // runs on it first (its seccomp filter).
  void Start(std::function<void()> thread_setup = {});

  size_t size() const { return transports_.size(); }

 private:
  static std::vector<std::shared_ptr<VirtioFs>> Build(const std::vector<config::FsConfig>& shares);

  std::shared_ptr<io::EventLoop> loop_;
  std::vector<std::shared_ptr<MmioTransport>> transports_;
};

}  // namespace hull::vmm::virtio
