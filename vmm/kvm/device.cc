#include "kvm/device.h"

#include <sys/ioctl.h>

#include "kvm/vm.h"

namespace hull::vmm::kvm {

Device::Device(const Vm& vm, uint32_t type, const std::string& what) : what_(what) {
  kvm_create_device create{};
  create.type = type;
  if (::ioctl(vm.fd(), KVM_CREATE_DEVICE, &create) < 0)
    throw KvmError::FromErrno("KVM_CREATE_DEVICE (" + what + ")");
  fd_ = UniqueFd(static_cast<int>(create.fd));
}

bool Device::Supported(const Vm& vm, uint32_t type) {
  kvm_create_device create{};
  create.type = type;
  create.flags = KVM_CREATE_DEVICE_TEST;
  return ::ioctl(vm.fd(), KVM_CREATE_DEVICE, &create) == 0;
}

namespace {
kvm_device_attr Attr(uint32_t group, uint64_t attr, const void* value) {
  kvm_device_attr a{};
  a.group = group;
  a.attr = attr;
  a.addr = reinterpret_cast<uint64_t>(value);
  return a;
}
}  // namespace

void Device::SetAttr(uint32_t group, uint64_t attr, const void* value, const char* what) const {
  auto a = Attr(group, attr, value);
  if (::ioctl(fd_.get(), KVM_SET_DEVICE_ATTR, &a) < 0)
    throw KvmError::FromErrno(what_ + ": setting " + what);
}

void Device::GetAttr(uint32_t group, uint64_t attr, void* value, const char* what) const {
  auto a = Attr(group, attr, value);
  if (::ioctl(fd_.get(), KVM_GET_DEVICE_ATTR, &a) < 0)
    throw KvmError::FromErrno(what_ + ": reading " + what);
}

bool Device::HasAttr(uint32_t group, uint64_t attr) const {
  auto a = Attr(group, attr, nullptr);
  return ::ioctl(fd_.get(), KVM_HAS_DEVICE_ATTR, &a) == 0;
}

}  // namespace hull::vmm::kvm
