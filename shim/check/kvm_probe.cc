#include "check/kvm_probe.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "check/unique_fd.h"

namespace hull::check {

KvmFacts ProbeKvm(const std::string& path, bool run_ring0_probe) {
  KvmFacts facts;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return facts;
  facts.exists = true;
  facts.is_char_device = S_ISCHR(st.st_mode);
  if (!facts.is_char_device) return facts;

  UniqueFd kvm(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  facts.open_errno = kvm.valid() ? 0 : errno;
  if (!kvm.valid()) return facts;

  facts.api_version = ::ioctl(kvm.get(), KVM_GET_API_VERSION, 0);
  if (facts.api_version != KVM_API_VERSION) return facts;

  for (const Capability& cap : RequiredCapabilities()) {
    if (::ioctl(kvm.get(), KVM_CHECK_EXTENSION, cap.number) <= 0) facts.missing_capabilities.push_back(cap.name);
  }

  UniqueFd vm(::ioctl(kvm.get(), KVM_CREATE_VM, 0));
  if (!vm.valid()) {
    facts.create_vm_error = std::string("KVM_CREATE_VM: ") + std::strerror(errno);
    return facts;
  }
  ProbeVmFeatures(vm.get(), facts);
  vm.reset();
  if (run_ring0_probe && facts.create_vm_error.empty()) facts.ring0 = RunRing0Probe(kvm.get());
  return facts;
}

}  // namespace hull::check
