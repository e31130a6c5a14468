#include "arch/aarch64/arm64_arch.h"

#include "arch/aarch64/image_loader.h"
#include "arch/aarch64/layout.h"
#include "arch/aarch64/vcpu_setup.h"
#include "arch/mapped_file.h"
#include "kvm/kvm_system.h"
#include "kvm/vcpu.h"
#include "kvm/vm.h"

namespace hull::vmm::aarch64 {

using arch::BootError;

arch::DeviceLayout Arm64Arch::Layout() const {
  arch::DeviceLayout layout;
  layout.boot_marker_address = kBootMarkerAddress;
  layout.mmio_base = kVirtioMmioBase;
  layout.mmio_slot_size = kVirtioMmioSlotSize;
  for (uint32_t spi = kFirstDeviceSpi; spi <= kLastDeviceSpi; ++spi) layout.device_irqs.push_back(spi);
  return layout;
}

std::vector<arch::RamRegion> Arm64Arch::RamRegions(uint64_t mem_size) const {
  if (mem_size % kRamAlignment != 0) {
    throw BootError("mem_size_mib " + std::to_string(mem_size >> 20) +
                    " is odd; arm64 guests need RAM in whole 2 MiB blocks (use an even size)");
  }
  if (mem_size > kMaxRamSize) {
    throw BootError("mem_size_mib " + std::to_string(mem_size >> 20) + " is more than the " +
                    std::to_string(kMaxRamSize >> 20) +
                    " MiB that fit in KVM's 40-bit arm64 guest address space");
  }
  return {{kDramStart, mem_size}};
}

void Arm64Arch::SetupVm(kvm::Vm& vm) {
  vm_ = &vm;
  gic_ = std::make_unique<VgicV3>(vm);
  vm.DeferIrqFds();  // registered once the GIC is initialized (SetupVcpu)
  gic_->SetNrIrqs(kGicNrIrqs);
}

void Arm64Arch::AddPlatformDevices(arch::PlatformContext& context) {
  uart_ = std::make_shared<devices::Pl011>(context.irq_line(kPl011Spi), context.console_out);
  context.mmio.Register(kPl011Base, kPl011Size, uart_);
  fdt_.uart = {kPl011Base, kPl011Size, kPl011Spi};
}

void Arm64Arch::ConsoleInput(std::span<const uint8_t> bytes) {
  if (uart_) uart_->Enqueue(bytes);
}

void Arm64Arch::AnnounceMmioDevice(GuestAddress base, uint64_t size, uint32_t irq) {
  fdt_.virtio.push_back({base, size, irq});
}

void Arm64Arch::LoadKernel(const GuestMemory& memory, const arch::BootSource& boot,
                           uint32_t vcpu_count) {
  if (!gic_) throw BootError("arm64: LoadKernel before SetupVm");
  fdt_.gic = ComputeGicLayout(vcpu_count);
  gic_->SetAddresses(fdt_.gic);

  LoadedImage kernel;
  {
    arch::MappedFile image(boot.kernel_path, "kernel image");
    kernel = LoadImage(memory, image.bytes(), "kernel image " + boot.kernel_path);
  }
  entry_ = kernel.entry;

  std::optional<uint64_t> initrd_size;
  if (boot.initrd_path) {
    initrd_size = arch::RegularFileSize(*boot.initrd_path, "initrd");
    if (*initrd_size == 0) throw BootError("initrd " + *boot.initrd_path + ": file is empty");
  }
  const BootBlobPlacement placement = PlaceBootBlobs(memory, kernel.end, initrd_size);
  if (placement.initrd) {
    arch::ReadFileInto(*boot.initrd_path, *memory.Translate(*placement.initrd, *initrd_size),
                       "initrd");
    fdt_.initrd_start = *placement.initrd;
    fdt_.initrd_end = *placement.initrd + *initrd_size;
  }
  fdt_address_ = placement.fdt;
  const MemoryRegion& ram = memory.regions().front();
  fdt_.ram_base = ram.guest_base();
  fdt_.ram_size = ram.size();
  fdt_.bootargs = boot.cmdline;
  fdt_.cpu_mpidrs.clear();
  memory_ = &memory;
}

void Arm64Arch::SetupVcpu(kvm::Vcpu& vcpu, uint32_t vcpu_count) {
  if (!vm_ || !memory_) throw BootError("arm64: SetupVcpu before SetupVm/LoadKernel");
  const bool boot_cpu = vcpu.index() == 0;
  InitVcpu(*vm_, vcpu, /*powered_off=*/!boot_cpu);
  if (boot_cpu) SetBootRegisters(vcpu, entry_, fdt_address_);
  fdt_.cpu_mpidrs.push_back(ReadMpidr(vcpu));
  if (fdt_.cpu_mpidrs.size() != vcpu_count) return;

  // The last vCPU exists: the GIC can be initialized and the FDT written.
  gic_->Initialize();
  vm_->IrqchipReady();
  const std::vector<uint8_t> dtb = BuildFdt(fdt_);
  memory_->WriteOrThrow(fdt_address_, dtb, "device tree");
}

}  // namespace hull::vmm::aarch64

namespace hull::vmm::arch {
std::unique_ptr<Arch> CreateHostArch(const kvm::KvmSystem& kvm) {
  if (kvm.CheckExtension(KVM_CAP_ARM_PSCI_0_2) <= 0) {
    throw BootError("this host's KVM lacks PSCI 0.2 (KVM_CAP_ARM_PSCI_0_2), which hull's arm64 "
                    "guests use to start CPUs and power off");
  }
  return std::make_unique<aarch64::Arm64Arch>();
}
}  // namespace hull::vmm::arch
