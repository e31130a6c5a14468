#include "kvm/kvm_system.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "kvm/flex_abi.h"
#include "kvm/vm.h"

namespace hull::vmm::kvm {

KvmError KvmError::FromErrno(const std::string& what) {
  return KvmError(what + ": " + std::strerror(errno));
}

KvmSystem::KvmSystem(const std::string& device) {
  fd_ = UniqueFd(::open(device.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd_.valid()) {
    throw KvmError::FromErrno("opening " + device +
                              " (is KVM available and are you in the kvm group? try `hull check`)");
  }
  int version = ::ioctl(fd_.get(), KVM_GET_API_VERSION, 0);
  if (version != KVM_API_VERSION) {
    throw KvmError(device + " speaks KVM API version " + std::to_string(version) + ", hull needs " +
                   std::to_string(KVM_API_VERSION));
  }
}

int KvmSystem::CheckExtension(long capability) const {
  int r = ::ioctl(fd_.get(), KVM_CHECK_EXTENSION, capability);
  return r < 0 ? 0 : r;
}

int KvmSystem::MaxVcpus() const {
  int max = CheckExtension(KVM_CAP_MAX_VCPUS);
  if (max <= 0) max = CheckExtension(KVM_CAP_NR_VCPUS);
  return max > 0 ? max : 4;  // KVM's documented default when neither cap is reported
}

int KvmSystem::VcpuMmapSize() const {
  int size = ::ioctl(fd_.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
  if (size <= 0) throw KvmError::FromErrno("KVM_GET_VCPU_MMAP_SIZE");
  return size;
}

#if defined(__x86_64__)
std::vector<kvm_cpuid_entry2> KvmSystem::SupportedCpuid() const {
  // The kernel says E2BIG while the buffer is too small; grow until it fits.
  for (uint32_t n = 128; n <= 4096; n *= 2) {
    auto buffer = FlexBuffer<kvm_cpuid_entry2>({}, n);
    if (::ioctl(fd_.get(), kGetSupportedCpuid, buffer.data()) == 0)
      return FlexEntries<kvm_cpuid_entry2>(buffer);
    if (errno != E2BIG) throw KvmError::FromErrno("KVM_GET_SUPPORTED_CPUID");
  }
  throw KvmError("KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
}
#endif

std::unique_ptr<Vm> KvmSystem::CreateVm() const {
  int mmap_size = VcpuMmapSize();
  int fd = -1;
  do {
    fd = ::ioctl(fd_.get(), KVM_CREATE_VM, 0);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw KvmError::FromErrno("KVM_CREATE_VM");
  return std::make_unique<Vm>(UniqueFd(fd), mmap_size);
}

}  // namespace hull::vmm::kvm
