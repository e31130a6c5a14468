// One thread per vCPU running KVM_RUN and dispatching port and MMIO exits to
// the buses. Pause/stop use the usual KVM kick: set kvm_run.immediate_exit
// and send the thread a signal, so a vCPU blocked in the guest (or in HLT
// inside KVM) returns to user space at once.
#pragma once

#include <pthread.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "bus/bus.h"
#include "kvm/vcpu.h"
#include "vcpu/exit_metrics.h"
#include "vcpu/vm_exit.h"

namespace hull::vmm {

class VcpuRunner {
 public:
  // `on_stop` is called (on a vCPU thread, at most once per vCPU) when the
  // guest stops the VM or a vCPU fails.
  // `thread_setup` (e.g. the vCPU seccomp filter) runs on each vCPU thread
  // before its first KVM_RUN; if it throws, the VM stops with that error.
  VcpuRunner(std::vector<std::unique_ptr<kvm::Vcpu>> vcpus, const Bus& pio, const Bus& mmio,
             ExitMetrics& metrics, std::function<void(const VmStop&)> on_stop,
             std::function<void()> thread_setup = {});
  ~VcpuRunner();  // Stop()
  VcpuRunner(const VcpuRunner&) = delete;
  VcpuRunner& operator=(const VcpuRunner&) = delete;

  void Start();
  // Returns once every running vCPU is out of the guest and parked.
  void Pause();
  void Resume();
  // Kicks and joins every thread; idempotent.
  void Stop();

  bool paused() const;

 private:
  enum class Command { kRun, kPause, kStop };
  void ThreadMain(size_t index);
  // Handles one exit; returns a stop when the VM must end.
  std::optional<VmStop> HandleExit(kvm::Vcpu& vcpu);
  void KickAll();

  std::vector<std::unique_ptr<kvm::Vcpu>> vcpus_;
  const Bus& pio_;
  const Bus& mmio_;
  ExitMetrics& metrics_;
  std::function<void(const VmStop&)> on_stop_;
  std::function<void()> thread_setup_;
  std::vector<std::thread> threads_;
  std::vector<pthread_t> handles_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Command command_ = Command::kRun;
  size_t parked_ = 0;  // threads waiting in the pause loop
  size_t exited_ = 0;  // threads that left their loop
};

}  // namespace hull::vmm
