#include "kvm/vcpu.h"

#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>

namespace hull::vmm::kvm {

Vcpu::Vcpu(UniqueFd fd, uint32_t index, int mmap_size)
    : fd_(std::move(fd)), index_(index), mmap_size_(mmap_size) {
  void* p = ::mmap(nullptr, static_cast<size_t>(mmap_size_), PROT_READ | PROT_WRITE, MAP_SHARED,
                   fd_.get(), 0);
  if (p == MAP_FAILED)
    throw KvmError::FromErrno("mapping kvm_run of vCPU " + std::to_string(index));
  run_ = static_cast<kvm_run*>(p);
}

Vcpu::~Vcpu() {
  if (run_ != nullptr) ::munmap(run_, static_cast<size_t>(mmap_size_));
}

bool Vcpu::Run() {
  if (::ioctl(fd_.get(), KVM_RUN, 0) == 0) return true;
  if (errno == EINTR || errno == EAGAIN) return false;
  throw KvmError::FromErrno("KVM_RUN on vCPU " + std::to_string(index_));
}

int Vcpu::Ioctl(unsigned long request, void* arg, const char* what) const {
  int r = ::ioctl(fd_.get(), request, arg);
  if (r < 0) throw KvmError::FromErrno(std::string(what) + " on vCPU " + std::to_string(index_));
  return r;
}

uint64_t Vcpu::GetOneReg(uint64_t id, const char* what) const {
  uint64_t value = 0;
  kvm_one_reg reg{id, reinterpret_cast<uint64_t>(&value)};
  if (::ioctl(fd_.get(), KVM_GET_ONE_REG, &reg) < 0)
    throw KvmError::FromErrno(std::string("KVM_GET_ONE_REG ") + what + " on vCPU " +
                              std::to_string(index_));
  return value;
}

void Vcpu::SetOneReg(uint64_t id, uint64_t value, const char* what) const {
  kvm_one_reg reg{id, reinterpret_cast<uint64_t>(&value)};
  if (::ioctl(fd_.get(), KVM_SET_ONE_REG, &reg) < 0)
    throw KvmError::FromErrno(std::string("KVM_SET_ONE_REG ") + what + " on vCPU " +
                              std::to_string(index_));
}

#if defined(__aarch64__)
void Vcpu::ArmInit(const kvm_vcpu_init& init) const {
  kvm_vcpu_init copy = init;
  if (::ioctl(fd_.get(), KVM_ARM_VCPU_INIT, &copy) < 0)
    throw KvmError::FromErrno("KVM_ARM_VCPU_INIT on vCPU " + std::to_string(index_));
}
#endif

}  // namespace hull::vmm::kvm
