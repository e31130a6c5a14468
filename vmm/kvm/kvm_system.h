// /dev/kvm: capability queries and VM creation.
#pragma once

#include <linux/kvm.h>

#include <memory>
#include <string>
#include <vector>

#include "kvm/kvm_error.h"
#include "kvm/unique_fd.h"

namespace hull::vmm::kvm {

class Vm;

class KvmSystem {
 public:
  // Opens the device (default /dev/kvm) and checks the API version.
  explicit KvmSystem(const std::string& device = "/dev/kvm");

  int CheckExtension(long capability) const;
  // Most vCPUs one VM may have (KVM_CAP_MAX_VCPUS, else KVM_CAP_NR_VCPUS).
  int MaxVcpus() const;
  int VcpuMmapSize() const;
#if defined(__x86_64__)
  // KVM_GET_SUPPORTED_CPUID: what this host's KVM can show a guest.
  std::vector<kvm_cpuid_entry2> SupportedCpuid() const;
#endif
  std::unique_ptr<Vm> CreateVm() const;

  int fd() const {
    return fd_.get();
  }

 private:
  UniqueFd fd_;
};

}  // namespace hull::vmm::kvm
