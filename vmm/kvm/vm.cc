#include "kvm/vm.h"

#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

#include "kvm/vcpu.h"

namespace hull::vmm::kvm {

int Vm::Ioctl(unsigned long request, void* arg, const char* what) const {
  int r = ::ioctl(fd_.get(), request, arg);
  if (r < 0) throw KvmError::FromErrno(what);
  return r;
}

int Vm::Ioctl(unsigned long request, unsigned long arg, const char* what) const {
  int r = ::ioctl(fd_.get(), request, arg);
  if (r < 0) throw KvmError::FromErrno(what);
  return r;
}

void Vm::SetUserMemoryRegion(uint32_t slot, uint64_t guest_address, uint64_t size, void* host) {
  kvm_userspace_memory_region region{};
  region.slot = slot;
  region.guest_phys_addr = guest_address;
  region.memory_size = size;
  region.userspace_addr = reinterpret_cast<uint64_t>(host);
  Ioctl(KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");
}

void Vm::AddIrqFd(int eventfd, uint32_t gsi) {
  if (defer_irqfds_) {
    pending_irqfds_.emplace_back(eventfd, gsi);
    return;
  }
  kvm_irqfd irqfd{};
  irqfd.fd = static_cast<uint32_t>(eventfd);
  irqfd.gsi = gsi;
  Ioctl(KVM_IRQFD, &irqfd, "KVM_IRQFD");
}

void Vm::IrqchipReady() {
  defer_irqfds_ = false;
  for (const auto& [eventfd, gsi] : pending_irqfds_) AddIrqFd(eventfd, gsi);
  pending_irqfds_.clear();
}

void Vm::AddIoEventFd(uint64_t address, uint32_t length, std::optional<uint64_t> datamatch,
                      int eventfd) {
  kvm_ioeventfd io{};
  io.addr = address;
  io.len = length;
  io.fd = eventfd;
  if (datamatch) {
    io.datamatch = *datamatch;
    io.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
  }
  Ioctl(KVM_IOEVENTFD, &io, "KVM_IOEVENTFD");
}

void Vm::SetIrqLine(uint32_t gsi, bool level) {
  kvm_irq_level irq{};
  irq.irq = gsi;
  irq.level = level ? 1 : 0;
  Ioctl(KVM_IRQ_LINE, &irq, "KVM_IRQ_LINE");
}

std::unique_ptr<Vcpu> Vm::CreateVcpu(uint32_t index) {
  int fd = ::ioctl(fd_.get(), KVM_CREATE_VCPU, static_cast<unsigned long>(index));
  if (fd < 0) throw KvmError::FromErrno("KVM_CREATE_VCPU " + std::to_string(index));
  return std::make_unique<Vcpu>(UniqueFd(fd), index, vcpu_mmap_size_);
}

#if defined(__aarch64__)
kvm_vcpu_init Vm::ArmPreferredTarget() const {
  kvm_vcpu_init init{};
  Ioctl(KVM_ARM_PREFERRED_TARGET, &init, "KVM_ARM_PREFERRED_TARGET");
  return init;
}
#endif

IrqFdLine::IrqFdLine(Vm& vm, uint32_t gsi)
    : eventfd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)), gsi_(gsi) {
  if (!eventfd_.valid()) throw KvmError::FromErrno("eventfd for IRQ " + std::to_string(gsi));
  vm.AddIrqFd(eventfd_.get(), gsi);
}

void IrqFdLine::Trigger() {
  uint64_t one = 1;
  // EAGAIN only when the counter is saturated, i.e. an edge is already pending.
  ssize_t n = ::write(eventfd_.get(), &one, sizeof one);
  (void)n;
}

}  // namespace hull::vmm::kvm
