// x86-64 parts of the KVM probe: required capabilities, and a ring-0 timing loop in real mode.
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "check/kvm_probe.h"
#include "check/ring0_timing.h"
#include "check/mapping.h"
#include "check/unique_fd.h"

namespace hull::check {
namespace {

constexpr uint64_t kMemSize = 0x10000;
constexpr uint64_t kCodeAddr = 0x1000;
constexpr unsigned kHostLoop = 4000000;

// mov ecx, imm32; 1: dec ecx; jnz 1b; hlt   (16-bit real mode, 0x66 = 32-bit operand)
void WriteLoop(uint8_t* code, uint32_t iterations) {
  const uint8_t prologue[] = {0x66, 0xb9};
  const uint8_t loop[] = {0x66, 0x49, 0x75, 0xfc, 0xf4};
  std::memcpy(code, prologue, sizeof prologue);
  std::memcpy(code + 2, &iterations, 4);
  std::memcpy(code + 6, loop, sizeof loop);
}

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

Arch BuiltArch() { return Arch::kX86_64; }

std::vector<Capability> RequiredCapabilities() {
  return {{"KVM_CAP_IRQCHIP", KVM_CAP_IRQCHIP},       {"KVM_CAP_USER_MEMORY", KVM_CAP_USER_MEMORY},
          {"KVM_CAP_SET_TSS_ADDR", KVM_CAP_SET_TSS_ADDR}, {"KVM_CAP_EXT_CPUID", KVM_CAP_EXT_CPUID},
          {"KVM_CAP_IRQFD", KVM_CAP_IRQFD},           {"KVM_CAP_IOEVENTFD", KVM_CAP_IOEVENTFD},
          {"KVM_CAP_PIT2", KVM_CAP_PIT2},             {"KVM_CAP_IMMEDIATE_EXIT", KVM_CAP_IMMEDIATE_EXIT}};
}

void ProbeVmFeatures(int, KvmFacts&) {}

Ring0Probe RunRing0Probe(int kvm_fd) {
  Ring0Probe probe;
  UniqueFd vm(::ioctl(kvm_fd, KVM_CREATE_VM, 0));
  if (!vm.valid()) return {Errno("KVM_CREATE_VM"), 0, 0};
  if (::ioctl(vm.get(), KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0) return {Errno("KVM_SET_TSS_ADDR"), 0, 0};
  Mapping mem(::mmap(nullptr, kMemSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), kMemSize);
  if (mem.get() == MAP_FAILED) return {Errno("mmap guest memory"), 0, 0};
  kvm_userspace_memory_region region{};
  region.memory_size = kMemSize;
  region.userspace_addr = reinterpret_cast<uint64_t>(mem.get());
  if (::ioctl(vm.get(), KVM_SET_USER_MEMORY_REGION, &region) < 0) return {Errno("KVM_SET_USER_MEMORY_REGION"), 0, 0};

  UniqueFd vcpu(::ioctl(vm.get(), KVM_CREATE_VCPU, 0));
  if (!vcpu.valid()) return {Errno("KVM_CREATE_VCPU"), 0, 0};
  const int run_size = ::ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size <= 0) return {Errno("KVM_GET_VCPU_MMAP_SIZE"), 0, 0};
  Mapping run_map(::mmap(nullptr, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu.get(), 0), run_size);
  if (run_map.get() == MAP_FAILED) return {Errno("mmap kvm_run"), 0, 0};
  const auto* run = static_cast<const kvm_run*>(run_map.get());

  kvm_sregs sregs{};
  if (::ioctl(vcpu.get(), KVM_GET_SREGS, &sregs) < 0) return {Errno("KVM_GET_SREGS"), 0, 0};
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  if (::ioctl(vcpu.get(), KVM_SET_SREGS, &sregs) < 0) return {Errno("KVM_SET_SREGS"), 0, 0};

  auto* code = static_cast<uint8_t*>(mem.get()) + kCodeAddr;
  const double guest_ns = GuestNsPerIteration([&](unsigned iterations) -> double {
    WriteLoop(code, iterations);
    kvm_regs regs{};
    regs.rip = kCodeAddr;
    regs.rflags = 0x2;
    if (::ioctl(vcpu.get(), KVM_SET_REGS, &regs) < 0) {
      probe.error = Errno("KVM_SET_REGS");
      return -1;
    }
    return TimedRun(vcpu.get(), run, KVM_EXIT_HLT, probe.error);
  });
  if (guest_ns < 0) return probe;
  probe.guest_ns_per_iteration = guest_ns;
  probe.host_ns_per_iteration = HostLoopNsPerIteration(kHostLoop);
  return probe;
}

}  // namespace hull::check
