#include "main/machine.h"

#include <spdlog/spdlog.h>

#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>

#include "devices/legacy/boot_marker.h"
#include "kvm/vcpu.h"

namespace hull::vmm {

Machine::Machine(const kvm::KvmSystem& kvm, const config::VmConfig& config, MachineHooks hooks)
    : hooks_(std::move(hooks)) {
  const auto t0 = std::chrono::steady_clock::now();
  auto us = [&t0] {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                 t0)
        .count();
  };
  if (!config.boot_source)
    throw arch::BootError("no boot source: PUT /boot-source with a kernel_image_path first");
  const auto& machine = config.machine_config;
  arch_ = arch::CreateHostArch(kvm);
  vm_ = kvm.CreateVm();

  MemoryRegion::Options options;
  options.hugepages = machine.huge_pages == config::HugePages::k2M;
  // No device maps guest RAM from another process yet; private memory gets
  // transparent huge pages. A vhost-user/virtio-fs device will need shareable.
  options.shareable = false;
  // PR_SET_THP_DISABLE is inherited across fork and exec: a parent that
  // turned huge pages off for its own small heap (containerd-shim-hull-v2
  // does) would silently turn off the ones guest RAM asks for.
  if (!options.hugepages) ::prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0);
  uint32_t slot = 0;
  for (const auto& r : arch_->RamRegions(machine.mem_size_mib << 20)) {
    MemoryRegion region(r.base, r.size, options);
    vm_->SetUserMemoryRegion(slot++, region.guest_base(), region.size(), region.host_base());
    memory_.AddRegion(std::move(region));
  }
  spdlog::debug("machine: VM and {} MiB of guest memory at {} us", machine.mem_size_mib, us());
  arch_->SetupVm(*vm_);

  auto irq_line = [this](uint32_t irq) -> std::shared_ptr<IrqLine> {
    return std::make_shared<kvm::IrqFdLine>(*vm_, irq);
  };
  arch::PlatformContext platform{
      pio_, mmio_, irq_line, hooks_.console_out, [this] {
        if (hooks_.stop) hooks_.stop(VmStop{StopReason::kReset, "guest reset the machine"});
      }};
  arch_->AddPlatformDevices(platform);
  const arch::DeviceLayout layout = arch_->Layout();
  mmio_.Register(layout.boot_marker_address, 0x1000,
                 std::make_shared<devices::BootMarker>(hooks_.boot_marker));

  ioevents_ = std::make_unique<kvm::VmIoEventRegistrar>(*vm_);
  MmioSlots slots(*arch_, mmio_, irq_line);
  virtio_ = std::make_unique<virtio::VirtioDeviceSet>(hooks_.block_worker_setup);
  virtio_->AttachFromConfig(config, memory_, ioevents_.get(), slots, config.entropy.has_value());
  fs_ = std::make_unique<virtio::VirtioFsSet>();
  fs_->AttachFromConfig(config.fs, memory_, ioevents_.get(), slots);

  arch::BootSource boot{config.boot_source->kernel_image_path, config.boot_source->initrd_path,
                        config.boot_source->boot_args.value_or(kDefaultBootArgs)};
  spdlog::debug("machine: devices ({} virtio, {} virtio-fs) at {} us", virtio_->size(), fs_->size(), us());
  arch_->LoadKernel(memory_, boot, machine.vcpu_count);
  spdlog::debug("machine: kernel loaded at {} us", us());

  std::vector<std::unique_ptr<kvm::Vcpu>> vcpus;
  for (uint32_t i = 0; i < machine.vcpu_count; ++i) {
    vcpus.push_back(vm_->CreateVcpu(i));
    arch_->SetupVcpu(*vcpus.back(), machine.vcpu_count);
  }
  spdlog::debug("machine: {} vCPU(s) set up at {} us", machine.vcpu_count, us());
  vcpus_ = std::make_unique<VcpuRunner>(std::move(vcpus), pio_, mmio_, metrics_, hooks_.stop,
                                        hooks_.vcpu_thread_setup);
}

Machine::~Machine() {
  Stop();
}

void Machine::Start() {
  virtio_->Start(hooks_.io_thread_setup);
  fs_->Start(hooks_.fs_thread_setup);
  vcpus_->Start();
}
void Machine::Pause() {
  vcpus_->Pause();
}
void Machine::Resume() {
  vcpus_->Resume();
}
void Machine::Stop() {
  if (vcpus_) vcpus_->Stop();
}
uint64_t Machine::GuestResidentBytes() const {
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  uint64_t resident = 0;
  for (const auto& region : memory_.regions()) {
    std::vector<unsigned char> pages((region.size() + page - 1) / page);
    if (::mincore(region.host_base(), region.size(), pages.data()) != 0) continue;
    for (unsigned char p : pages) resident += (p & 1) ? page : 0;
  }
  return resident;
}

void Machine::UpdateDriveImage(const std::string& drive_id, const std::string& path) {
  virtio_->ReplaceDriveImage(drive_id, path);
}

void Machine::SetBalloonTarget(uint32_t amount_mib) {
  virtio_->SetBalloonTarget(amount_mib);
}

std::optional<virtio::BalloonCounters> Machine::BalloonStats() const {
  return virtio_->BalloonStats();
}

bool Machine::SendCtrlAltDel() {
  return arch_->SendCtrlAltDel();
}
void Machine::ConsoleInput(std::span<const uint8_t> bytes) {
  arch_->ConsoleInput(bytes);
}

}  // namespace hull::vmm
