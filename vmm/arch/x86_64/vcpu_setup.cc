#include "arch/x86_64/vcpu_setup.h"

#include <cstring>

#include "arch/x86_64/boot_tables.h"
#include "arch/x86_64/layout.h"
#include "kvm/flex_abi.h"

namespace hull::vmm::x86 {
namespace {

constexpr uint64_t kCr0ProtectionEnable = 1ull << 0;
constexpr uint64_t kCr0Paging = 1ull << 31;
constexpr uint64_t kCr4Pae = 1ull << 5;
constexpr uint64_t kEferLongModeEnable = 1ull << 8;
constexpr uint64_t kEferLongModeActive = 1ull << 10;

kvm_segment Segment(uint16_t selector, uint8_t type, bool code) {
  kvm_segment s{};
  s.base = 0;
  s.limit = 0xfffff;
  s.selector = selector;
  s.type = type;
  s.present = 1;
  s.dpl = 0;
  s.db = code ? 0 : 1;
  s.s = 1;
  s.l = code ? 1 : 0;
  s.g = 1;
  return s;
}

void SetCpuid(kvm::Vcpu& vcpu, const std::vector<kvm_cpuid_entry2>& entries) {
  auto buffer = kvm::FlexBuffer(entries, static_cast<uint32_t>(entries.size()));
  vcpu.Ioctl(kvm::kSetCpuid2, buffer.data(), "KVM_SET_CPUID2");
}

void SetMsrs(kvm::Vcpu& vcpu) {
  const std::vector<std::pair<uint32_t, uint64_t>> msrs = {
      {0x174, 0},
      {0x175, 0},
      {0x176, 0},  // SYSENTER_CS/ESP/EIP
      {0xc0000081, 0},
      {0xc0000082, 0},
      {0xc0000083, 0},  // STAR LSTAR CSTAR
      {0xc0000084, 0},
      {0xc0000102, 0},          // SFMASK KERNEL_GS_BASE
      {0x10, 0},                // TSC
      {0x1a0, 1},               // MISC_ENABLE: fast strings
      {0x2ff, (1u << 11) | 6},  // MTRR default type: enabled, write-back
  };
  std::vector<kvm_msr_entry> entries;
  for (const auto& [index, value] : msrs) {
    kvm_msr_entry e{};
    e.index = index;
    e.data = value;
    entries.push_back(e);
  }
  auto buffer = kvm::FlexBuffer(entries, static_cast<uint32_t>(entries.size()));
  // KVM_SET_MSRS returns how many it set; a host that refuses one of these
  // still boots Linux, so only an error throws.
  vcpu.Ioctl(kvm::kSetMsrs, buffer.data(), "KVM_SET_MSRS");
}

void SetLocalInterrupts(kvm::Vcpu& vcpu) {
  constexpr size_t kLvtLint0 = 0x350, kLvtLint1 = 0x360;
  constexpr uint32_t kDeliveryExtInt = 7, kDeliveryNmi = 4;
  kvm_lapic_state lapic{};
  vcpu.Ioctl(KVM_GET_LAPIC, &lapic, "KVM_GET_LAPIC");
  auto set_mode = [&](size_t reg, uint32_t mode) {
    uint32_t value;
    std::memcpy(&value, lapic.regs + reg, 4);
    value = (value & ~0x700u) | (mode << 8);
    std::memcpy(lapic.regs + reg, &value, 4);
  };
  set_mode(kLvtLint0, kDeliveryExtInt);
  set_mode(kLvtLint1, kDeliveryNmi);
  vcpu.Ioctl(KVM_SET_LAPIC, &lapic, "KVM_SET_LAPIC");
}

}  // namespace

kvm_sregs BootSregs(kvm_sregs sregs) {
  sregs.cs = Segment(kCodeSelector, 0xb, true);
  sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = Segment(kDataSelector, 0x3, false);
  sregs.tr = Segment(kTssSelector, 0xb, false);
  sregs.tr.s = 0;
  sregs.tr.db = 0;
  sregs.gdt.base = kGdtAddress;
  sregs.gdt.limit = static_cast<uint16_t>(BootGdt().size() * 8 - 1);
  sregs.idt.base = kIdtAddress;
  sregs.idt.limit = 7;
  sregs.cr0 |= kCr0ProtectionEnable | kCr0Paging;
  sregs.cr3 = kPml4Address;
  sregs.cr4 |= kCr4Pae;
  sregs.efer |= kEferLongModeEnable | kEferLongModeActive;
  return sregs;
}

void SetupBootVcpu(kvm::Vcpu& vcpu, const std::vector<kvm_cpuid_entry2>& cpuid, uint64_t entry) {
  SetCpuid(vcpu, cpuid);
  SetMsrs(vcpu);

  kvm_sregs sregs{};
  vcpu.Ioctl(KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
  sregs = BootSregs(sregs);
  vcpu.Ioctl(KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");

  kvm_regs regs{};
  regs.rflags = 0x2;  // bit 1 is always set
  regs.rip = entry;
  regs.rsp = regs.rbp = kBootStackPointer;
  regs.rsi = kZeroPageAddress;  // 64-bit boot protocol: RSI points at boot_params
  vcpu.Ioctl(KVM_SET_REGS, &regs, "KVM_SET_REGS");

  kvm_fpu fpu{};
  fpu.fcw = 0x37f;
  fpu.mxcsr = 0x1f80;
  vcpu.Ioctl(KVM_SET_FPU, &fpu, "KVM_SET_FPU");

  SetLocalInterrupts(vcpu);
}

}  // namespace hull::vmm::x86
