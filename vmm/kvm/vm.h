// One KVM virtual machine: memory slots, interrupt routing, vCPU creation.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "bus/irq.h"
#include "kvm/kvm_error.h"
#include "kvm/unique_fd.h"

namespace hull::vmm::kvm {

class Vcpu;

class Vm {
 public:
  Vm(UniqueFd fd, int vcpu_mmap_size) : fd_(std::move(fd)), vcpu_mmap_size_(vcpu_mmap_size) {}

  // Maps host memory as guest RAM at `guest_address`.
  void SetUserMemoryRegion(uint32_t slot, uint64_t guest_address, uint64_t size, void* host);

  // KVM_IRQFD: a write to `eventfd` raises `gsi` (an edge). While irqfds are
  // deferred (below) the registration is queued; an edge written meanwhile
  // is delivered when it happens (KVM checks the counter on registration).
  void AddIrqFd(int eventfd, uint32_t gsi);
  // arm64: KVM refuses irqfds (EAGAIN) until the vGIC is initialized, which
  // needs every vCPU to exist, while devices take their lines earlier. The
  // back end calls Defer before devices are added and IrqchipReady after the
  // GIC's CTRL_INIT; the eventfds must stay open until then.
  void DeferIrqFds() { defer_irqfds_ = true; }
  void IrqchipReady();
  // KVM_IOEVENTFD on the MMIO bus.
  void AddIoEventFd(uint64_t address, uint32_t length, std::optional<uint64_t> datamatch,
                    int eventfd);
  // Drives `gsi` to `level` (KVM_IRQ_LINE).
  void SetIrqLine(uint32_t gsi, bool level);

  std::unique_ptr<Vcpu> CreateVcpu(uint32_t index);
#if defined(__aarch64__)
  // KVM_ARM_PREFERRED_TARGET: the vCPU target that matches this host's CPUs.
  kvm_vcpu_init ArmPreferredTarget() const;
#endif

  // Raw ioctl for arch back ends; throws KvmError naming `what` on failure.
  int Ioctl(unsigned long request, void* arg, const char* what) const;
  int Ioctl(unsigned long request, unsigned long arg, const char* what) const;

  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  int vcpu_mmap_size_;
  bool defer_irqfds_ = false;
  std::vector<std::pair<int, uint32_t>> pending_irqfds_;  // (eventfd, gsi)
};

// An IrqLine backed by an irqfd: Trigger() is one eventfd write, safe from
// any thread and never blocking in practice (the counter cannot overflow).
class IrqFdLine : public IrqLine {
 public:
  IrqFdLine(Vm& vm, uint32_t gsi);
  void Trigger() override;
  uint32_t gsi() const { return gsi_; }

 private:
  UniqueFd eventfd_;
  uint32_t gsi_;
};

// The KVM implementation of IoEventRegistrar.
class VmIoEventRegistrar : public IoEventRegistrar {
 public:
  explicit VmIoEventRegistrar(Vm& vm) : vm_(vm) {}
  void RegisterIoEvent(uint64_t address, uint32_t length, std::optional<uint64_t> datamatch,
                       int eventfd) override {
    vm_.AddIoEventFd(address, length, datamatch, eventfd);
  }

 private:
  Vm& vm_;
};

}  // namespace hull::vmm::kvm
