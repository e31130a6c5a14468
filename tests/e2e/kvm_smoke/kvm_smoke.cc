// kvm_smoke: the smallest end-to-end proof that /dev/kvm runs guest code on this machine.
// Opens /dev/kvm, creates a VM with guest memory and one vCPU, runs a few guest instructions
// and checks every exit:
//   x86_64:  real mode: al = 2 + 0x40; out 0x10, al; hlt  -> KVM_EXIT_IO(port 0x10, 0x42), KVM_EXIT_HLT
//   aarch64: EL1: w0 = 0x40 + 2; str w0, [0x09000000]; hvc PSCI SYSTEM_OFF
//            -> KVM_EXIT_MMIO(0x09000000, 4 bytes, 0x42), KVM_EXIT_SYSTEM_EVENT(SHUTDOWN)
// Standalone on purpose (no project code): it tests the machine (or the nested L1), not hull.
// Exit status 0 when every exit matched, 1 with a message naming the first mismatch.
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

namespace {

class SmokeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void FailErrno(const std::string& what) {
  throw SmokeError(what + ": " + std::strerror(errno));
}

class Fd {
 public:
  explicit Fd(int fd, const char* what) : fd_(fd) {
    if (fd_ < 0) FailErrno(what);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { ::close(fd_); }
  int get() const { return fd_; }

 private:
  int fd_;
};

class Mapping {
 public:
  Mapping(size_t size, int prot, int flags, int fd, const char* what)
      : addr_(::mmap(nullptr, size, prot, flags, fd, 0)), size_(size) {
    if (addr_ == MAP_FAILED) FailErrno(what);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { ::munmap(addr_, size_); }
  void* get() const { return addr_; }

 private:
  void* addr_;
  size_t size_;
};

void Ioctl(int fd, unsigned long request, const void* arg, const char* what) {
  if (::ioctl(fd, request, arg) < 0) FailErrno(what);
}

const char* ExitName(uint32_t reason) {
  switch (reason) {
    case KVM_EXIT_IO: return "KVM_EXIT_IO";
    case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
    case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
    case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN";
    case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
    case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
    case KVM_EXIT_SYSTEM_EVENT: return "KVM_EXIT_SYSTEM_EVENT";
    default: return "another exit";
  }
}

// Runs the vCPU once and insists on `expected` as the exit reason.
void RunUntil(int vcpu, const kvm_run* run, uint32_t expected) {
  int rc;
  do {
    rc = ::ioctl(vcpu, KVM_RUN, 0);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) FailErrno("KVM_RUN");
  if (run->exit_reason != expected) {
    throw SmokeError(std::string("expected ") + ExitName(expected) + ", got " + ExitName(run->exit_reason) +
                     " (exit reason " + std::to_string(run->exit_reason) + ")");
  }
  std::printf("kvm_smoke: exit %s\n", ExitName(expected));
}

void Expect(bool ok, const std::string& what) {
  if (!ok) throw SmokeError(what);
}

constexpr uint8_t kValue = 0x42;

#if defined(__x86_64__)
constexpr uint64_t kMemBase = 0;
constexpr uint64_t kMemSize = 0x10000;
constexpr uint64_t kEntry = 0x1000;
constexpr uint16_t kPort = 0x10;
// mov dx, 0x10; mov al, 2; add al, 0x40; out dx, al; hlt
constexpr uint8_t kCode[] = {0xba, 0x10, 0x00, 0xb0, 0x02, 0x04, 0x40, 0xee, 0xf4};

void PrepareVm(int vm) {
  Ioctl(vm, KVM_SET_TSS_ADDR, reinterpret_cast<void*>(0xfffbd000UL), "KVM_SET_TSS_ADDR");
}

void PrepareVcpu(int, int vcpu) {
  kvm_sregs sregs{};
  Ioctl(vcpu, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  Ioctl(vcpu, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
  kvm_regs regs{};
  regs.rip = kEntry;
  regs.rflags = 0x2;
  Ioctl(vcpu, KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

void RunGuest(int vcpu, const kvm_run* run) {
  RunUntil(vcpu, run, KVM_EXIT_IO);
  Expect(run->io.direction == KVM_EXIT_IO_OUT, "the I/O exit is not an OUT");
  Expect(run->io.port == kPort, "OUT went to port " + std::to_string(run->io.port) + ", expected 16");
  Expect(run->io.size == 1 && run->io.count == 1, "OUT is not one byte");
  const uint8_t data = reinterpret_cast<const uint8_t*>(run)[run->io.data_offset];
  Expect(data == kValue, "OUT wrote " + std::to_string(data) + ", expected 66 (2 + 0x40 computed by the guest)");
  std::printf("kvm_smoke: OUT port 0x%x value 0x%x: ok\n", run->io.port, data);
  RunUntil(vcpu, run, KVM_EXIT_HLT);
  kvm_regs regs{};
  Ioctl(vcpu, KVM_GET_REGS, &regs, "KVM_GET_REGS");
  Expect(regs.rip == kEntry + sizeof kCode, "after HLT rip is not past the code");
}

#elif defined(__aarch64__)
constexpr uint64_t kMemBase = 0x80000000;
constexpr uint64_t kMemSize = 0x10000;
constexpr uint64_t kEntry = kMemBase;
constexpr uint64_t kMmioAddr = 0x09000000;
constexpr uint32_t kPsciSystemOff = 0x84000008;
// movz x0,#0x40; add x0,x0,#2; movz x1,#0x0900,lsl 16; str w0,[x1];
// movz w0,#8; movk w0,#0x8400,lsl 16; hvc #0; b .
constexpr uint32_t kCode[] = {0xd2800800, 0x91000800, 0xd2a12001, 0xb9000020,
                              0x52800100, 0x72b08000, 0xd4000002, 0x14000000};

void PrepareVm(int) {}

void PrepareVcpu(int vm, int vcpu) {
  kvm_vcpu_init init{};
  Ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init, "KVM_ARM_PREFERRED_TARGET");
  init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
  Ioctl(vcpu, KVM_ARM_VCPU_INIT, &init, "KVM_ARM_VCPU_INIT");
  const uint64_t pc = kEntry;
  const kvm_one_reg reg{KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
                            (offsetof(kvm_regs, regs.pc) / sizeof(uint32_t)),
                        reinterpret_cast<uint64_t>(&pc)};
  Ioctl(vcpu, KVM_SET_ONE_REG, &reg, "KVM_SET_ONE_REG(pc)");
}

void RunGuest(int vcpu, const kvm_run* run) {
  RunUntil(vcpu, run, KVM_EXIT_MMIO);
  Expect(run->mmio.is_write, "the MMIO exit is a read, expected a write");
  Expect(run->mmio.phys_addr == kMmioAddr, "MMIO write went to " + std::to_string(run->mmio.phys_addr));
  Expect(run->mmio.len == 4, "MMIO write is " + std::to_string(run->mmio.len) + " bytes, expected 4");
  uint32_t data;
  std::memcpy(&data, run->mmio.data, sizeof data);
  Expect(data == kValue, "MMIO wrote " + std::to_string(data) + ", expected 66 (0x40 + 2 computed by the guest)");
  std::printf("kvm_smoke: MMIO write 0x%llx value 0x%x: ok\n", static_cast<unsigned long long>(run->mmio.phys_addr),
              data);
  RunUntil(vcpu, run, KVM_EXIT_SYSTEM_EVENT);
  Expect(run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN,
         "system event " + std::to_string(run->system_event.type) + ", expected SHUTDOWN (PSCI SYSTEM_OFF " +
             std::to_string(kPsciSystemOff) + ")");
}
#else
#error "kvm_smoke supports x86_64 and aarch64"
#endif

void Smoke(const char* device) {
  Fd kvm(::open(device, O_RDWR | O_CLOEXEC), device);
  const int api = ::ioctl(kvm.get(), KVM_GET_API_VERSION, 0);
  Expect(api == KVM_API_VERSION, "KVM API version " + std::to_string(api) + ", expected 12");
  Fd vm(::ioctl(kvm.get(), KVM_CREATE_VM, 0), "KVM_CREATE_VM");
  PrepareVm(vm.get());
  Mapping mem(kMemSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, "mmap guest memory");
  std::memcpy(static_cast<uint8_t*>(mem.get()) + (kEntry - kMemBase), kCode, sizeof kCode);
  kvm_userspace_memory_region region{};
  region.guest_phys_addr = kMemBase;
  region.memory_size = kMemSize;
  region.userspace_addr = reinterpret_cast<uint64_t>(mem.get());
  Ioctl(vm.get(), KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");
  Fd vcpu(::ioctl(vm.get(), KVM_CREATE_VCPU, 0), "KVM_CREATE_VCPU");
  const int run_size = ::ioctl(kvm.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size <= 0) FailErrno("KVM_GET_VCPU_MMAP_SIZE");
  Mapping run(static_cast<size_t>(run_size), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu.get(), "mmap kvm_run");
  PrepareVcpu(vm.get(), vcpu.get());
  std::printf("kvm_smoke: KVM API %d, VM with %llu KiB of memory and one vCPU\n", api,
              static_cast<unsigned long long>(kMemSize / 1024));
  const auto start = std::chrono::steady_clock::now();
  RunGuest(vcpu.get(), static_cast<const kvm_run*>(run.get()));
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  std::printf("kvm_smoke: guest ran in %lld us\n", static_cast<long long>(us.count()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
    std::fprintf(stderr, "usage: kvm_smoke [KVM-DEVICE]   (default /dev/kvm)\n");
    return 2;
  }
  try {
    Smoke(argc == 2 ? argv[1] : "/dev/kvm");
  } catch (const SmokeError& e) {
    std::fprintf(stderr, "kvm_smoke: FAIL: %s\n", e.what());
    return 1;
  }
  std::printf("kvm_smoke: PASS\n");
  return 0;
}
