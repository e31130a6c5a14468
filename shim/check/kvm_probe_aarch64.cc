// arm64 parts of the KVM probe: required capabilities, the vGICv3, and a ring-0 (EL1) timing loop.
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "check/kvm_probe.h"
#include "check/ring0_timing.h"
#include "check/mapping.h"
#include "check/unique_fd.h"

namespace hull::check {
namespace {

constexpr uint64_t kMemBase = 0x80000000;
constexpr uint64_t kMemSize = 0x10000;
constexpr uint64_t kMmioExit = 0x09000000;  // unbacked: the store exits with KVM_EXIT_MMIO
constexpr unsigned kHostLoop = 4000000;

// movz x0,#lo; movk x0,#hi,lsl 16; 1: subs x0,x0,#1; b.ne 1b; movz x1,#0x0900,lsl 16; str w0,[x1]; b .
void WriteLoop(uint8_t* code, uint32_t iterations) {
  const uint32_t insns[] = {0xd2800000 | ((iterations & 0xffff) << 5), 0xf2a00000 | ((iterations >> 16) << 5),
                            0xf1000400, 0x54ffffe1, 0xd2a12001, 0xb9000020, 0x14000000};
  std::memcpy(code, insns, sizeof insns);
}

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

double Fail(Ring0Probe& probe, const char* what) {
  probe.error = Errno(what);
  return -1;
}

uint64_t CoreRegId(size_t offset) {
  return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (offset / sizeof(uint32_t));
}

}  // namespace

Arch BuiltArch() { return Arch::kAarch64; }

std::vector<Capability> RequiredCapabilities() {
  return {{"KVM_CAP_ARM_PSCI_0_2", KVM_CAP_ARM_PSCI_0_2}, {"KVM_CAP_USER_MEMORY", KVM_CAP_USER_MEMORY},
          {"KVM_CAP_ONE_REG", KVM_CAP_ONE_REG},           {"KVM_CAP_DEVICE_CTRL", KVM_CAP_DEVICE_CTRL},
          {"KVM_CAP_IRQFD", KVM_CAP_IRQFD},               {"KVM_CAP_IOEVENTFD", KVM_CAP_IOEVENTFD},
          {"KVM_CAP_IMMEDIATE_EXIT", KVM_CAP_IMMEDIATE_EXIT}};
}

void ProbeVmFeatures(int vm_fd, KvmFacts& facts) {
  kvm_create_device dev{};
  dev.type = KVM_DEV_TYPE_ARM_VGIC_V3;
  dev.flags = KVM_CREATE_DEVICE_TEST;
  facts.vgic_v3 = ::ioctl(vm_fd, KVM_CREATE_DEVICE, &dev) == 0;
}

Ring0Probe RunRing0Probe(int kvm_fd) {
  Ring0Probe probe;
  UniqueFd vm(::ioctl(kvm_fd, KVM_CREATE_VM, 0));
  if (!vm.valid()) return {Errno("KVM_CREATE_VM"), 0, 0};
  Mapping mem(::mmap(nullptr, kMemSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), kMemSize);
  if (mem.get() == MAP_FAILED) return {Errno("mmap guest memory"), 0, 0};
  kvm_userspace_memory_region region{};
  region.guest_phys_addr = kMemBase;
  region.memory_size = kMemSize;
  region.userspace_addr = reinterpret_cast<uint64_t>(mem.get());
  if (::ioctl(vm.get(), KVM_SET_USER_MEMORY_REGION, &region) < 0) return {Errno("KVM_SET_USER_MEMORY_REGION"), 0, 0};
  kvm_vcpu_init init{};
  if (::ioctl(vm.get(), KVM_ARM_PREFERRED_TARGET, &init) < 0) return {Errno("KVM_ARM_PREFERRED_TARGET"), 0, 0};
  const int run_size = ::ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size <= 0) return {Errno("KVM_GET_VCPU_MMAP_SIZE"), 0, 0};

  // One vCPU per timed run: an MMIO exit leaves the vCPU mid-instruction, so each run starts fresh.
  int next_vcpu_id = 0;
  const double guest_ns = GuestNsPerIteration([&](unsigned iterations) -> double {
    WriteLoop(static_cast<uint8_t*>(mem.get()), iterations);
    UniqueFd vcpu(::ioctl(vm.get(), KVM_CREATE_VCPU, next_vcpu_id++));
    if (!vcpu.valid()) return Fail(probe, "KVM_CREATE_VCPU");
    if (::ioctl(vcpu.get(), KVM_ARM_VCPU_INIT, &init) < 0) return Fail(probe, "KVM_ARM_VCPU_INIT");
    const uint64_t entry = kMemBase;
    kvm_one_reg pc{CoreRegId(offsetof(kvm_regs, regs.pc)), reinterpret_cast<uint64_t>(&entry)};
    if (::ioctl(vcpu.get(), KVM_SET_ONE_REG, &pc) < 0) return Fail(probe, "KVM_SET_ONE_REG(pc)");
    Mapping run_map(::mmap(nullptr, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu.get(), 0), run_size);
    if (!run_map.valid()) return Fail(probe, "mmap kvm_run");
    const auto* run = static_cast<const kvm_run*>(run_map.get());
    const double elapsed = TimedRun(vcpu.get(), run, KVM_EXIT_MMIO, probe.error);
    if (elapsed >= 0 && (run->mmio.phys_addr != kMmioExit || !run->mmio.is_write)) {
      probe.error = "the probe's MMIO exit went to the wrong address";
      return -1;
    }
    return elapsed;
  });
  if (guest_ns < 0) return probe;
  probe.guest_ns_per_iteration = guest_ns;
  probe.host_ns_per_iteration = HostLoopNsPerIteration(kHostLoop);
  return probe;
}

}  // namespace hull::check
