// What an architecture back end (x86_64 now, arm64 next) does for the
// arch-neutral VMM: shape guest RAM, create the in-kernel interrupt
// controller, place platform devices, tell the guest where devices are
// (x86: kernel command line; arm64: FDT), load the kernel and set up vCPUs.
// Call order: RamRegions -> SetupVm -> AddPlatformDevices ->
// AnnounceMmioDevice* -> LoadKernel -> SetupVcpu (each vCPU).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "bus/bus.h"
#include "bus/irq.h"
#include "memory/guest_memory.h"

namespace hull::vmm::kvm {
class KvmSystem;
class Vm;
class Vcpu;
}  // namespace hull::vmm::kvm

namespace hull::vmm::arch {

// Bad kernel/initrd/command line or a layout that does not fit: a user error.
class BootError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RamRegion {
  GuestAddress base;
  uint64_t size;
};

// Where this architecture puts devices.
struct DeviceLayout {
  GuestAddress boot_marker_address;   // guest writes 123 here from its init
  GuestAddress mmio_base;             // first virtio-mmio slot
  uint64_t mmio_slot_size;            // one device window
  std::vector<uint32_t> device_irqs;  // free interrupt numbers, in allocation order
};

struct BootSource {
  std::string kernel_path;
  std::optional<std::string> initrd_path;
  std::string cmdline;  // the user's part; the back end appends device announcements
};

// Hooks the platform devices need from the VMM.
struct PlatformContext {
  Bus& pio;
  Bus& mmio;
  // An interrupt line for `irq` (the back end picks the numbers).
  std::function<std::shared_ptr<IrqLine>(uint32_t irq)> irq_line;
  // Guest console: bytes the guest writes to its serial port.
  std::function<void(std::span<const uint8_t>)> console_out;
  // The guest asked for a reset (x86: i8042 pulse) — a reboot, i.e. a clean stop.
  std::function<void()> request_reset;
};

class Arch {
 public:
  virtual ~Arch() = default;

  virtual std::string name() const = 0;
  virtual DeviceLayout Layout() const = 0;
  // RAM regions for `mem_size` bytes of guest memory (holes for MMIO left out).
  virtual std::vector<RamRegion> RamRegions(uint64_t mem_size) const = 0;
  // Per-VM state before any vCPU exists: irqchip, timers, TSS.
  virtual void SetupVm(kvm::Vm& vm) = 0;
  // Serial port, reset device...
  virtual void AddPlatformDevices(PlatformContext& context) = 0;
  // Console input from the host (stdin) into the guest's serial port.
  virtual void ConsoleInput(std::span<const uint8_t> bytes) = 0;
  // Ask the guest to reboot itself the way a keyboard's Ctrl-Alt-Del does;
  // false when this architecture has no such thing.
  virtual bool SendCtrlAltDel() = 0;
  // Tells the guest about a virtio-mmio device.
  virtual void AnnounceMmioDevice(GuestAddress base, uint64_t size, uint32_t irq) = 0;
  // Loads kernel (+initrd, command line, boot tables) into guest memory.
  // Throws BootError for bad files or when they do not fit.
  virtual void LoadKernel(const GuestMemory& memory, const BootSource& boot,
                          uint32_t vcpu_count) = 0;
  // Registers, CPU features, interrupt controller state of one vCPU.
  virtual void SetupVcpu(kvm::Vcpu& vcpu, uint32_t vcpu_count) = 0;
};

// The back end of the architecture hull-vmm was built for.
std::unique_ptr<Arch> CreateHostArch(const kvm::KvmSystem& kvm);

}  // namespace hull::vmm::arch
