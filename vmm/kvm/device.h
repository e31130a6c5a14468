// A KVM device (KVM_CREATE_DEVICE), e.g. the arm64 vGICv3, configured
// through device attributes (KVM_SET/GET/HAS_DEVICE_ATTR).
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <string>

#include "kvm/kvm_error.h"
#include "kvm/unique_fd.h"

namespace hull::vmm::kvm {

class Vm;

class Device {
 public:
  // Throws KvmError naming `what` when KVM cannot create a device of `type`.
  Device(const Vm& vm, uint32_t type, const std::string& what);

  // True when KVM could create a device of `type` (KVM_CREATE_DEVICE_TEST).
  static bool Supported(const Vm& vm, uint32_t type);

  // KVM_SET_DEVICE_ATTR with `value` at kvm_device_attr.addr (nullptr: none).
  void SetAttr(uint32_t group, uint64_t attr, const void* value, const char* what) const;
  void GetAttr(uint32_t group, uint64_t attr, void* value, const char* what) const;
  bool HasAttr(uint32_t group, uint64_t attr) const;

  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  std::string what_;
};

}  // namespace hull::vmm::kvm
