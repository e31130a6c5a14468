// One microVM built from a VmConfig: guest RAM, the KVM VM and its vCPUs,
// the buses with the platform devices, the boot marker and the virtio
// devices of the config, the kernel loaded. Construction does everything that can fail before the
// guest runs; Start() only starts the vCPU threads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "arch/arch.h"
#include "bus/bus.h"
#include "config/vm_config.h"
#include "devices/virtio/virtio_device_set.h"
#include "devices/virtio/virtio_fs_set.h"
#include "kvm/kvm_system.h"
#include "kvm/vm.h"
#include "main/mmio_slots.h"
#include "memory/guest_memory.h"
#include "vcpu/exit_metrics.h"
#include "vcpu/vcpu_runner.h"
#include "vcpu/vm_exit.h"

namespace hull::vmm {

// The command line the guest gets when boot-source has no boot_args: the
// console is the back end's UART (x86: 8250 ttyS0; arm64: PL011 ttyAMA0).
#if defined(__aarch64__)
inline constexpr const char* kDefaultBootArgs = "console=ttyAMA0 panic=1 nomodule";
#else
inline constexpr const char* kDefaultBootArgs =
    "console=ttyS0 reboot=k panic=1 pci=off nomodule i8042.noaux i8042.nomux i8042.nopnp "
    "i8042.dumbkbd";
#endif

struct MachineHooks {
  std::function<void(std::span<const uint8_t>)> console_out;
  std::function<void()> boot_marker;        // guest init wrote the marker (on a vCPU thread)
  std::function<void(const VmStop&)> stop;  // the VM must end (on a vCPU thread)
  // Run on each vCPU thread / the I/O thread before its loop (seccomp).
  std::function<void()> vcpu_thread_setup;
  std::function<void()> io_thread_setup;
  // Run on the virtio-fs thread before its loop (seccomp).
  std::function<void()> fs_thread_setup;
  // Run on each disk's I/O worker thread first (seccomp).
  std::function<void()> block_worker_setup;
};

class Machine {
 public:
  Machine(const kvm::KvmSystem& kvm, const config::VmConfig& config, MachineHooks hooks);
  ~Machine();  // stops the vCPUs before anything they use goes away

  void Start();
  void Pause();
  void Resume();
  void Stop();
  bool SendCtrlAltDel();
  // Throws virtio::DeviceError (unknown drive, unopenable image).
  void UpdateDriveImage(const std::string& drive_id, const std::string& path);
  // Throws virtio::DeviceError when the VM has no balloon.
  void SetBalloonTarget(uint32_t amount_mib);
  std::optional<virtio::BalloonCounters> BalloonStats() const;
  void ConsoleInput(std::span<const uint8_t> bytes);

  const ExitMetrics& exit_metrics() const { return metrics_; }
  const GuestMemory& memory() const { return memory_; }
  // Bytes of guest RAM the host has backed so far (mincore), to tell the
  // VMM's own memory from the guest's in the process RSS.
  uint64_t GuestResidentBytes() const;

 private:
  MachineHooks hooks_;
  std::unique_ptr<arch::Arch> arch_;
  std::unique_ptr<kvm::Vm> vm_;
  GuestMemory memory_;
  Bus pio_{"PIO"};
  Bus mmio_{"MMIO"};
  ExitMetrics metrics_;
  std::unique_ptr<kvm::VmIoEventRegistrar> ioevents_;
  // Drives, network, vsock, rng from the config, and their I/O thread;
  // destroyed after the vCPUs stop and before guest memory goes.
  std::unique_ptr<virtio::VirtioDeviceSet> virtio_;
  // Shared directories (virtio-fs) on their own thread; same lifetime.
  std::unique_ptr<virtio::VirtioFsSet> fs_;
  std::unique_ptr<VcpuRunner> vcpus_;
};

}  // namespace hull::vmm
