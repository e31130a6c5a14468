// One KVM vCPU: its fd and the shared kvm_run page.
#pragma once

#include <linux/kvm.h>

#include <cstdint>

#include "kvm/kvm_error.h"
#include "kvm/unique_fd.h"

namespace hull::vmm::kvm {

class Vcpu {
 public:
  Vcpu(UniqueFd fd, uint32_t index, int mmap_size);
  ~Vcpu();
  Vcpu(const Vcpu&) = delete;
  Vcpu& operator=(const Vcpu&) = delete;

  // KVM_RUN. Returns false when interrupted by a signal (EINTR) or when
  // immediate_exit was set (the caller decides what that means); throws on
  // any other failure.
  bool Run();

  kvm_run* run() const { return run_; }
  uint32_t index() const { return index_; }
  int fd() const { return fd_.get(); }

  // Raw ioctl for arch back ends; throws KvmError naming `what` on failure.
  int Ioctl(unsigned long request, void* arg, const char* what) const;

  // KVM_GET_ONE_REG / KVM_SET_ONE_REG of a 64-bit register.
  uint64_t GetOneReg(uint64_t id, const char* what) const;
  void SetOneReg(uint64_t id, uint64_t value, const char* what) const;
#if defined(__aarch64__)
  // KVM_ARM_VCPU_INIT: target CPU and features (PSCI 0.2, powered off...).
  void ArmInit(const kvm_vcpu_init& init) const;
#endif

 private:
  UniqueFd fd_;
  uint32_t index_;
  int mmap_size_;
  kvm_run* run_ = nullptr;
};

}  // namespace hull::vmm::kvm
