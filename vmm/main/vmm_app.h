// hull-vmm's process: the event loop (Boost.Asio) that serves the API,
// forwards stdin to the guest console, starts the Machine on InstanceStart
// and ends the process when the guest stops. Implements the API's
// VmController.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "api/http_server.h"
#include "api/router.h"
#include "api/vm_controller.h"
#include "config/vm_config.h"
#include "main/console.h"
#include "main/machine.h"

namespace hull::vmm {

struct AppOptions {
  std::string api_socket;      // empty: no API
  bool start_at_once = false;  // --config-file: boot without waiting for InstanceStart
  std::string console_output;  // empty: stdout
  bool console_input = true;   // forward stdin to the guest's serial port
  std::string kvm_device = "/dev/kvm";
  // Per-thread seccomp filters (vmm/seccomp), each installed once its
  // thread's set-up is done.
  bool seccomp = false;
  std::chrono::steady_clock::time_point process_start;
};

class VmmApp : public api::VmController {
 public:
  VmmApp(AppOptions options, config::VmConfig config);
  ~VmmApp() override;

  // Runs until the guest stops (or a signal); returns the process exit status.
  int Run();

  // api::VmController
  api::VmState state() const override { return state_; }
  std::string instance_id() const override { return "anonymous-instance"; }
  config::VmConfig& mutable_config() override { return config_; }
  config::HostLimits host_limits() const override;
  void InstanceStart() override;
  void Pause() override;
  void Resume() override;
  void SendCtrlAltDel() override;
  void UpdateDriveImage(const std::string& drive_id, const std::string& path) override;
  void UpdateBalloon(uint32_t amount_mib) override;
  nlohmann::json BalloonStatistics() const override;
  void FlushMetrics() override;

 private:
  void OnStop(const VmStop& stop);  // on the loop thread
  void OnBootMarker();              // on a vCPU thread
  void ReadConsoleInput();
  nlohmann::json MetricsJson() const;
  void Finish(int exit_status);

  AppOptions options_;
  config::VmConfig config_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_{io_};
  std::optional<boost::asio::posix::stream_descriptor> stdin_;
  std::array<uint8_t, 256> stdin_buffer_{};
  ConsoleOutput console_;
  api::Router router_;
  std::unique_ptr<api::HttpServer> server_;
  std::unique_ptr<kvm::KvmSystem> kvm_;
  std::unique_ptr<Machine> machine_;
  api::VmState state_ = api::VmState::kNotStarted;
  std::chrono::steady_clock::time_point instance_start_;
  std::atomic<int64_t> boot_marker_us_{-1};
  int64_t api_ready_us_ = -1;
  std::optional<VmStop> stop_;
  int exit_status_ = 0;
  bool finished_ = false;
};

}  // namespace hull::vmm
