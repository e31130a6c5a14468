#include "main/vmm_app.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <csignal>
#include <fstream>

#include "api/api_error.h"
#include "arch/arch.h"
#include "kvm/kvm_error.h"
#include "seccomp/thread_filter.h"

namespace hull::vmm {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

int64_t MicrosSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count();
}

// stdin can be watched with epoll only when it is a terminal, pipe or socket.
bool StdinIsPollable() {
  struct stat st {};
  if (::fstat(STDIN_FILENO, &st) != 0) return false;
  return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
         (S_ISCHR(st.st_mode) && ::isatty(STDIN_FILENO));
}

// A "Key:  N kB" field of a /proc file, in KiB, or -1.
int64_t ProcFieldKib(const char* path, const std::string& field) {
  std::ifstream in(path);
  std::string key;
  while (in >> key) {
    if (key == field) {
      int64_t kib = -1;
      in >> kib;
      return kib;
    }
    in.ignore(1 << 12, '\n');
  }
  return -1;
}

int64_t SelfRssKib() { return ProcFieldKib("/proc/self/status", "VmRSS:"); }

uint64_t HostMemoryMib() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size) >> 20;
}

}  // namespace

VmmApp::VmmApp(AppOptions options, config::VmConfig config)
    : options_(std::move(options)),
      config_(std::move(config)),
      console_(options_.console_output),
      router_(api::MakeRouter()) {
  signals_.add(SIGINT);
  signals_.add(SIGTERM);
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("stopping on signal {}", signo);
    Finish(128 + signo);
  });
  if (options_.console_input && StdinIsPollable()) {
    int fd = ::dup(STDIN_FILENO);
    if (fd >= 0) {
      stdin_.emplace(io_, fd);
      ReadConsoleInput();
    }
  }
  if (!options_.api_socket.empty()) {
    server_ = std::make_unique<api::HttpServer>(io_, options_.api_socket, router_, *this);
    api_ready_us_ = MicrosSince(options_.process_start);
    spdlog::debug("API ready on {} {} us after process start", options_.api_socket, api_ready_us_);
  }
}

VmmApp::~VmmApp() {
  if (machine_) machine_->Stop();
}

config::HostLimits VmmApp::host_limits() const {
  config::HostLimits limits;
  limits.max_mem_mib = HostMemoryMib();
  try {
    limits.max_vcpus = static_cast<uint32_t>(kvm_ ? kvm_->MaxVcpus()
                                                  : kvm::KvmSystem(options_.kvm_device).MaxVcpus());
  } catch (const kvm::KvmError&) {
    limits.max_vcpus = 0;  // unknown until KVM opens; InstanceStart reports why
  }
  return limits;
}

void VmmApp::InstanceStart() {
  if (state_ != api::VmState::kNotStarted)
    throw api::ApiError(400, "InstanceStart: the microVM is already running");
  if (!config_.boot_source) {
    throw api::ApiError(
        400, "InstanceStart: no boot source; PUT /boot-source with a kernel_image_path first");
  }
  instance_start_ = Clock::now();
  if (!kvm_) kvm_ = std::make_unique<kvm::KvmSystem>(options_.kvm_device);
  config::HostLimits limits;
  limits.max_vcpus = static_cast<uint32_t>(kvm_->MaxVcpus());
  limits.max_mem_mib = HostMemoryMib();
  config::ValidateMachineConfig(config_.machine_config, limits);

  MachineHooks hooks;
  hooks.console_out = [this](std::span<const uint8_t> bytes) { console_.Write(bytes); };
  hooks.boot_marker = [this] { OnBootMarker(); };
  hooks.stop = [this](const VmStop& stop) { asio::post(io_, [this, stop] { OnStop(stop); }); };
  if (options_.seccomp) {
    hooks.vcpu_thread_setup = [] { seccomp::InstallThreadFilter(seccomp::ThreadKind::kVcpu); };
    hooks.io_thread_setup = [] { seccomp::InstallThreadFilter(seccomp::ThreadKind::kIo); };
    hooks.fs_thread_setup = [] { seccomp::InstallThreadFilter(seccomp::ThreadKind::kFs); };
    hooks.block_worker_setup = [] { seccomp::InstallThreadFilter(seccomp::ThreadKind::kBlockWorker); };
  }
  machine_ = std::make_unique<Machine>(*kvm_, config_, std::move(hooks));
  machine_->Start();
  state_ = api::VmState::kRunning;
  if (options_.seccomp) {
    // This thread's set-up (KVM, memory, devices, threads) is done: from now
    // on it only serves the API and the console and ends the process.
    seccomp::InstallThreadFilter(seccomp::ThreadKind::kApi);
    spdlog::info("seccomp filters installed (vCPU, I/O, disk worker, virtio-fs and API threads)");
  }
  spdlog::info("microVM started: {} vCPU(s), {} MiB, set up in {} us",
               config_.machine_config.vcpu_count, config_.machine_config.mem_size_mib,
               MicrosSince(instance_start_));
}

void VmmApp::Pause() {
  if (state_ == api::VmState::kRunning) {
    machine_->Pause();
    state_ = api::VmState::kPaused;
    spdlog::info("microVM paused");
  }
}

void VmmApp::Resume() {
  if (state_ == api::VmState::kPaused) {
    machine_->Resume();
    state_ = api::VmState::kRunning;
    spdlog::info("microVM resumed");
  }
}

void VmmApp::UpdateDriveImage(const std::string& drive_id, const std::string& path) {
  if (!machine_) throw api::ApiError(400, "the microVM is not running; change the drive's config with PATCH before InstanceStart");
  machine_->UpdateDriveImage(drive_id, path);
}

void VmmApp::UpdateBalloon(uint32_t amount_mib) {
  if (!machine_) throw api::ApiError(400, "the microVM is not running; PATCH /balloon before InstanceStart sets the initial target");
  machine_->SetBalloonTarget(amount_mib);
}

namespace {

nlohmann::json BalloonJson(const virtio::BalloonCounters& c) {
  return {{"inflated_pages", c.inflated_pages},
          {"deflated_pages", c.deflated_pages},
          {"reported_kib", c.reported_bytes >> 10},
          {"discarded_kib", c.discarded_bytes >> 10},
          {"rejected_addresses", c.rejected}};
}

}  // namespace

nlohmann::json VmmApp::BalloonStatistics() const {
  if (!machine_) throw api::ApiError(400, "balloon statistics are available once the microVM runs");
  auto stats = machine_->BalloonStats();
  if (!stats) throw api::ApiError(400, "this microVM has no balloon");
  nlohmann::json j = BalloonJson(*stats);
  j["guest_resident_kib"] = machine_->GuestResidentBytes() >> 10;
  return j;
}

void VmmApp::SendCtrlAltDel() {
  if (!machine_ || !machine_->SendCtrlAltDel()) {
    throw api::ApiError(400, "SendCtrlAltDel: this architecture has no keyboard controller");
  }
}

nlohmann::json VmmApp::MetricsJson() const {
  nlohmann::json j;
  j["api_ready_us"] = api_ready_us_;
  j["boot_marker_ms"] =
      boot_marker_us_ < 0 ? nlohmann::json(nullptr) : nlohmann::json(boot_marker_us_ / 1000.0);
  if (machine_) {
    const auto& m = machine_->exit_metrics();
    j["vcpu_exits"] = {{"pio_in", m.pio_in.load()},
                       {"pio_out", m.pio_out.load()},
                       {"mmio_read", m.mmio_read.load()},
                       {"mmio_write", m.mmio_write.load()},
                       {"unhandled_pio", m.unhandled_pio.load()},
                       {"unhandled_mmio", m.unhandled_mmio.load()},
                       {"interrupted", m.interrupted.load()},
                       {"other", m.other.load()}};
  }
  const int64_t rss_kib = SelfRssKib();
  j["rss_kib"] = rss_kib;
  j["anon_huge_kib"] = ProcFieldKib("/proc/self/smaps_rollup", "AnonHugePages:");
  if (machine_ && rss_kib >= 0) {
    const auto guest_kib = static_cast<int64_t>(machine_->GuestResidentBytes() >> 10);
    j["guest_resident_kib"] = guest_kib;
    j["vmm_overhead_kib"] = rss_kib - guest_kib;  // what the VMM itself costs
    if (auto balloon = machine_->BalloonStats()) j["balloon"] = BalloonJson(*balloon);
  }
  j["state"] = api::VmStateName(state_);
  if (stop_) j["stop_reason"] = StopReasonName(stop_->reason);
  return j;
}

void VmmApp::FlushMetrics() {
  if (!config_.metrics)
    throw api::ApiError(400, "FlushMetrics: no metrics path; PUT /metrics first");
  std::ofstream out(config_.metrics->metrics_path, std::ios::app);
  if (!out) throw api::ApiError(400, "cannot write metrics to " + config_.metrics->metrics_path);
  out << MetricsJson().dump() << "\n";
}

void VmmApp::OnBootMarker() {
  int64_t expected = -1;
  const int64_t us = MicrosSince(instance_start_);
  if (boot_marker_us_.compare_exchange_strong(expected, us)) {
    spdlog::info("guest init reached at {} ms after InstanceStart", us / 1000);
  }
}

void VmmApp::ReadConsoleInput() {
  stdin_->async_read_some(asio::buffer(stdin_buffer_),
                          [this](const boost::system::error_code& ec, size_t n) {
                            if (ec) return;  // EOF or closed: no more input
                            if (machine_ && n > 0)
                              machine_->ConsoleInput({stdin_buffer_.data(), n});
                            ReadConsoleInput();
                          });
}

void VmmApp::OnStop(const VmStop& stop) {
  if (stop_) return;
  VmStop effective = stop;
  // A panicking kernel with panic=N reboots; the console saw why.
  if (stop.reason == StopReason::kReset && console_.saw_panic()) {
    effective =
        VmStop{StopReason::kPanic, "the guest kernel panicked (see the console) and rebooted"};
  }
  stop_ = effective;
  const int status = ExitStatus(effective.reason);
  if (status == 0) {
    spdlog::info("microVM stopped: {}: {}", StopReasonName(effective.reason), effective.detail);
  } else {
    spdlog::error("microVM stopped: {}: {}", StopReasonName(effective.reason), effective.detail);
  }
  Finish(status);
}

void VmmApp::Finish(int exit_status) {
  if (finished_) return;
  finished_ = true;
  exit_status_ = exit_status;
  if (machine_) machine_->Stop();
  if (config_.metrics) {
    try {
      FlushMetrics();
    } catch (const std::exception& e) {
      spdlog::warn("{}", e.what());
    }
  }
  spdlog::debug("metrics: {}", MetricsJson().dump());
  io_.stop();
}

int VmmApp::Run() {
  if (options_.start_at_once) {
    try {
      InstanceStart();
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      return 1;
    }
  }
  io_.run();
  return exit_status_;
}

}  // namespace hull::vmm
