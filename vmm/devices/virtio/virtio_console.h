// virtio-console (virtio 1.x, 5.3), single port: a fast second console for
// the guest (hvc0). Guest output goes to `output` (a file, pipe, socket or
// tty); bytes readable from `input` (optional) go to the guest. Output that
// the host cannot take yet stays in the guest's transmit queue (back
// pressure), never in an unbounded buffer.
#pragma once

#include <string>

#include "io/event_loop.h"
#include "io/unique_fd.h"
#include "virtio/virtio_device.h"

namespace hull::vmm::virtio {

inline constexpr uint32_t kDeviceTypeConsole = 3;

class VirtioConsole : public VirtioDevice {
 public:
  static constexpr uint16_t kQueueSize = 64;
  static constexpr size_t kMaxPendingOutput = 64 * 1024;

  // `input` may be invalid (no input). Both are made non-blocking where they
  // can be polled. Throws DeviceError.
  VirtioConsole(io::UniqueFd output, io::UniqueFd input, io::EventLoop& loop);
  ~VirtioConsole() override;

 protected:
  void ProcessQueue(size_t index) override;
  void OnActivate() override;
  void OnReset() override;

 private:
  void ProcessTx();
  void FlushOutput();
  void PumpInput();
  void UpdateWatches();

  io::UniqueFd output_;
  io::UniqueFd input_;
  io::EventLoop& loop_;
  bool output_pollable_ = true;
  std::string pending_output_;
  bool input_readable_ = false;
  bool input_eof_ = false;
  uint32_t output_watch_ = 0;
  uint32_t input_watch_ = 0;
};

}  // namespace hull::vmm::virtio
