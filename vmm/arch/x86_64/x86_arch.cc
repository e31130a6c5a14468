#include "arch/x86_64/x86_arch.h"

#include <cstdio>

#include "arch/mapped_file.h"
#include "arch/x86_64/boot_tables.h"
#include "arch/x86_64/cpuid.h"
#include "arch/x86_64/kernel_loader.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/mptable.h"
#include "arch/x86_64/vcpu_setup.h"
#include "kvm/kvm_system.h"
#include "kvm/vcpu.h"
#include "kvm/vm.h"

namespace hull::vmm::x86 {

using arch::BootError;

X86Arch::X86Arch(std::vector<kvm_cpuid_entry2> supported_cpuid, bool tsc_deadline)
    : supported_cpuid_(std::move(supported_cpuid)), tsc_deadline_(tsc_deadline) {}

arch::DeviceLayout X86Arch::Layout() const {
  arch::DeviceLayout layout;
  layout.boot_marker_address = kBootMarkerAddress;
  layout.mmio_base = kVirtioMmioBase;
  layout.mmio_slot_size = kVirtioMmioSlotSize;
  // IOAPIC pins 5..23; 4 is COM1 (and 0-2, 8, 12 are PIT, keyboard, cascade, RTC, mouse... of
  // which only 1 is used, but keeping to 5+ avoids any ISA legacy line).
  for (uint32_t irq = 5; irq < kIoApicPins; ++irq) {
    if (irq == 8 || irq == 12) continue;
    layout.device_irqs.push_back(irq);
  }
  return layout;
}

std::vector<arch::RamRegion> X86Arch::RamRegions(uint64_t mem_size) const {
  std::vector<arch::RamRegion> regions;
  const uint64_t low = std::min(mem_size, kMmioGapStart);
  regions.push_back({0, low});
  if (mem_size > low) regions.push_back({kMmioGapEnd, mem_size - low});
  return regions;
}

void X86Arch::SetupVm(kvm::Vm& vm) {
  vm.Ioctl(KVM_SET_TSS_ADDR, static_cast<unsigned long>(kTssAddress), "KVM_SET_TSS_ADDR");
  uint64_t identity_map = kIdentityMapAddress;
  vm.Ioctl(KVM_SET_IDENTITY_MAP_ADDR, &identity_map, "KVM_SET_IDENTITY_MAP_ADDR");
  vm.Ioctl(KVM_CREATE_IRQCHIP, 0ul, "KVM_CREATE_IRQCHIP");
  kvm_pit_config pit{};
  pit.flags = KVM_PIT_SPEAKER_DUMMY;
  vm.Ioctl(KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2");
}

void X86Arch::AddPlatformDevices(arch::PlatformContext& context) {
  serial_ = std::make_shared<devices::Serial>(context.irq_line(kCom1Irq), context.console_out);
  context.pio.Register(kCom1Port, 8, serial_);
  i8042_ =
      std::make_shared<devices::I8042>(context.irq_line(kI8042KeyboardIrq), context.request_reset);
  context.pio.Register(kI8042DataPort, kI8042CommandPort - kI8042DataPort + 1, i8042_);
}

void X86Arch::ConsoleInput(std::span<const uint8_t> bytes) {
  if (serial_) serial_->Enqueue(bytes);
}

bool X86Arch::SendCtrlAltDel() {
  if (!i8042_) return false;
  i8042_->SendCtrlAltDel();
  return true;
}

void X86Arch::AnnounceMmioDevice(GuestAddress base, uint64_t size, uint32_t irq) {
  char buf[96];
  std::snprintf(buf, sizeof buf, " virtio_mmio.device=%lluK@0x%llx:%u",
                static_cast<unsigned long long>(size >> 10), static_cast<unsigned long long>(base),
                irq);
  device_cmdline_ += buf;
}

void X86Arch::LoadKernel(const GuestMemory& memory, const arch::BootSource& boot,
                         uint32_t vcpu_count) {
  LoadedKernel kernel;
  {
    arch::MappedFile image(boot.kernel_path, "kernel image");
    kernel = LoadKernelImage(memory, image.bytes(), "kernel image " + boot.kernel_path);
  }
  entry_ = kernel.entry;

  const std::string cmdline = boot.cmdline + device_cmdline_;
  if (cmdline.size() > kernel.cmdline_max) {
    throw BootError("kernel command line is " + std::to_string(cmdline.size()) +
                    " bytes; this kernel takes at most " + std::to_string(kernel.cmdline_max) +
                    " (shorten boot_args or attach fewer devices)");
  }
  memory.WriteOrThrow(kCmdlineAddress,
                      {reinterpret_cast<const uint8_t*>(cmdline.c_str()), cmdline.size() + 1},
                      "kernel command line");

  ZeroPageInputs inputs;
  inputs.cmdline_address = kCmdlineAddress;
  if (boot.initrd_path) {
    const uint64_t size = arch::RegularFileSize(*boot.initrd_path, "initrd");
    if (size == 0) throw BootError("initrd " + *boot.initrd_path + ": file is empty");
    const uint64_t low_ram_end = memory.regions().front().guest_end();
    auto address = PlaceInitrd(size, kernel.end, low_ram_end, kernel.initrd_addr_max);
    if (!address) {
      throw BootError(
          "initrd " + *boot.initrd_path + " (" + std::to_string(size >> 20) +
          " MiB) does not fit in guest memory above the kernel; give the VM more memory "
          "(mem_size_mib) or use a smaller initrd");
    }
    arch::ReadFileInto(*boot.initrd_path, *memory.Translate(*address, size), "initrd");
    inputs.initrd_address = *address;
    inputs.initrd_size = size;
  }
  std::vector<std::pair<uint64_t, uint64_t>> ram;
  for (const auto& r : memory.regions()) ram.emplace_back(r.guest_base(), r.size());
  inputs.e820 = BuildE820(ram);
  const ZeroPage zero_page = BuildZeroPage(kernel, inputs);
  memory.WriteOrThrow(kZeroPageAddress, zero_page.bytes(), "zero page");
  WriteIdentityPageTables(memory);
  WriteGdtAndIdt(memory);
  const auto mptable = BuildMpTable(kEbdaStart, vcpu_count);
  memory.WriteOrThrow(kEbdaStart, mptable, "MP table");
}

void X86Arch::SetupVcpu(kvm::Vcpu& vcpu, uint32_t vcpu_count) {
  SetupBootVcpu(vcpu, FilterCpuid(supported_cpuid_, {vcpu.index(), vcpu_count, tsc_deadline_}),
                entry_);
}

}  // namespace hull::vmm::x86

namespace hull::vmm::arch {
std::unique_ptr<Arch> CreateHostArch(const kvm::KvmSystem& kvm) {
  return std::make_unique<x86::X86Arch>(kvm.SupportedCpuid(),
                                        kvm.CheckExtension(KVM_CAP_TSC_DEADLINE_TIMER) > 0);
}
}  // namespace hull::vmm::arch
