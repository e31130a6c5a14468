#include "vcpu/vcpu_runner.h"

#include <csignal>
#include <cstring>
#include <span>
#include <string>

#include "kvm/kvm_error.h"

namespace hull::vmm {
namespace {

// The kick signal. Its handler does nothing: the point is that KVM_RUN
// returns EINTR.
int KickSignal() {
  return SIGRTMIN;
}

void InstallKickHandler() {
  struct sigaction action {};
  action.sa_handler = [](int) {};
  sigemptyset(&action.sa_mask);
  sigaction(KickSignal(), &action, nullptr);
}

void SetImmediateExit(kvm_run* run, bool on) {
  __atomic_store_n(&run->immediate_exit, on ? 1 : 0, __ATOMIC_SEQ_CST);
}

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

VcpuRunner::VcpuRunner(std::vector<std::unique_ptr<kvm::Vcpu>> vcpus, const Bus& pio,
                       const Bus& mmio, ExitMetrics& metrics,
                       std::function<void(const VmStop&)> on_stop,
                       std::function<void()> thread_setup)
    : vcpus_(std::move(vcpus)),
      pio_(pio),
      mmio_(mmio),
      metrics_(metrics),
      on_stop_(std::move(on_stop)),
      thread_setup_(std::move(thread_setup)) {}

VcpuRunner::~VcpuRunner() {
  Stop();
}

void VcpuRunner::Start() {
  InstallKickHandler();
  handles_.resize(vcpus_.size());
  for (size_t i = 0; i < vcpus_.size(); ++i) {
    threads_.emplace_back([this, i] { ThreadMain(i); });
    handles_[i] = threads_.back().native_handle();
  }
}

void VcpuRunner::KickAll() {
  for (size_t i = 0; i < threads_.size(); ++i) {
    SetImmediateExit(vcpus_[i]->run(), true);
    pthread_kill(handles_[i], KickSignal());
  }
}

void VcpuRunner::Pause() {
  std::unique_lock lock(mu_);
  if (command_ != Command::kRun) return;
  command_ = Command::kPause;
  KickAll();
  cv_.wait(lock, [&] { return parked_ + exited_ == threads_.size(); });
}

void VcpuRunner::Resume() {
  std::lock_guard lock(mu_);
  if (command_ != Command::kPause) return;
  command_ = Command::kRun;
  cv_.notify_all();
}

bool VcpuRunner::paused() const {
  std::lock_guard lock(mu_);
  return command_ == Command::kPause;
}

void VcpuRunner::Stop() {
  {
    std::lock_guard lock(mu_);
    command_ = Command::kStop;
    cv_.notify_all();
    // Kick while holding the lock so no thread can exit (and its handle go
    // stale) between the check and pthread_kill.
    for (size_t i = 0; i < threads_.size(); ++i) {
      SetImmediateExit(vcpus_[i]->run(), true);
      if (i < handles_.size()) pthread_kill(handles_[i], KickSignal());
    }
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  handles_.clear();
}

void VcpuRunner::ThreadMain(size_t index) {
  kvm::Vcpu& vcpu = *vcpus_[index];
  std::optional<VmStop> stop;
  try {
    if (thread_setup_) thread_setup_();
  } catch (const std::exception& e) {
    stop = VmStop{StopReason::kVmmError, e.what()};
  }
  while (!stop) {
    {
      std::unique_lock lock(mu_);
      if (command_ == Command::kPause) {
        ++parked_;
        cv_.notify_all();
        cv_.wait(lock, [&] { return command_ != Command::kPause; });
        --parked_;
      }
      if (command_ == Command::kStop) break;
    }
    try {
      if (vcpu.Run()) {
        stop = HandleExit(vcpu);
      } else {
        metrics_.interrupted.fetch_add(1, std::memory_order_relaxed);
        SetImmediateExit(vcpu.run(), false);
      }
    } catch (const std::exception& e) {
      stop = VmStop{StopReason::kVmmError, e.what()};
    }
  }
  {
    std::lock_guard lock(mu_);
    ++exited_;
    cv_.notify_all();
  }
  if (stop && on_stop_) on_stop_(*stop);
}

std::optional<VmStop> VcpuRunner::HandleExit(kvm::Vcpu& vcpu) {
  kvm_run* run = vcpu.run();
  switch (run->exit_reason) {
    case KVM_EXIT_IO: {
      const auto& io = run->io;
      auto* data = reinterpret_cast<uint8_t*>(run) + io.data_offset;
      for (uint32_t i = 0; i < io.count; ++i) {
        std::span<uint8_t> bytes(data + uint64_t{i} * io.size, io.size);
        bool handled;
        if (io.direction == KVM_EXIT_IO_OUT) {
          metrics_.pio_out.fetch_add(1, std::memory_order_relaxed);
          handled = pio_.Write(io.port, bytes);
        } else {
          metrics_.pio_in.fetch_add(1, std::memory_order_relaxed);
          // No device reads as zero (the bus pre-zeroes), not as a PC's
          // floating 0xff: an absent CMOS RTC would otherwise show "update in
          // progress" forever and stall Linux's rtc probe for seconds.
          handled = pio_.Read(io.port, bytes);
        }
        if (!handled) metrics_.unhandled_pio.fetch_add(1, std::memory_order_relaxed);
      }
      return std::nullopt;
    }
    case KVM_EXIT_MMIO: {
      auto& mmio = run->mmio;
      const uint32_t len = std::min<uint32_t>(mmio.len, sizeof mmio.data);
      bool handled;
      if (mmio.is_write) {
        metrics_.mmio_write.fetch_add(1, std::memory_order_relaxed);
        handled = mmio_.Write(mmio.phys_addr, {mmio.data, len});
      } else {
        metrics_.mmio_read.fetch_add(1, std::memory_order_relaxed);
        handled = mmio_.Read(mmio.phys_addr, {mmio.data, len});
      }
      if (!handled) metrics_.unhandled_mmio.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    case KVM_EXIT_INTR:
      metrics_.interrupted.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    case KVM_EXIT_HLT:
      return VmStop{StopReason::kPowerOff, "vCPU " + std::to_string(vcpu.index()) + " halted"};
    case KVM_EXIT_SHUTDOWN:
      return VmStop{
          StopReason::kTripleFault,
          "vCPU " + std::to_string(vcpu.index()) +
              " triple-faulted (a guest crash, or `reboot=t`; use `reboot=k` for a clean reboot)"};
    case KVM_EXIT_SYSTEM_EVENT:
      switch (run->system_event.type) {
        case KVM_SYSTEM_EVENT_SHUTDOWN:
          return VmStop{StopReason::kPowerOff, "guest asked to power off"};
        case KVM_SYSTEM_EVENT_RESET:
          return VmStop{StopReason::kReset, "guest asked to reset"};
        case KVM_SYSTEM_EVENT_CRASH:
          return VmStop{StopReason::kPanic, "guest reported a crash"};
        default:
          return VmStop{StopReason::kInternalError,
                        "unknown system event " + std::to_string(run->system_event.type)};
      }
    case KVM_EXIT_INTERNAL_ERROR:
      return VmStop{
          StopReason::kInternalError,
          "KVM internal error on vCPU " + std::to_string(vcpu.index()) + ", suberror " +
              std::to_string(run->internal.suberror) +
              " (an instruction KVM could not emulate; is this /dev/kvm real hardware KVM?)"};
    case KVM_EXIT_FAIL_ENTRY:
      return VmStop{StopReason::kInternalError,
                    "vCPU " + std::to_string(vcpu.index()) +
                        " failed to enter the guest, hardware reason " +
                        Hex(run->fail_entry.hardware_entry_failure_reason)};
    default:
      metrics_.other.fetch_add(1, std::memory_order_relaxed);
      return VmStop{StopReason::kInternalError,
                    "unexpected KVM exit reason " + std::to_string(run->exit_reason)};
  }
}

}  // namespace hull::vmm
