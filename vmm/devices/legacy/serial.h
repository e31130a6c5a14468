// A 16550A-compatible UART (the "8250" Linux's console driver talks to), as
// far as a guest console needs: transmit, receive with a 64-byte FIFO,
// interrupt enable/identification, divisor latch, scratch and loopback (the
// driver's probe uses it). Register facts from the 16550 data sheet; the
// shape follows rust-vmm's vm-superio.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>

#include "bus/io_handler.h"
#include "bus/irq.h"

namespace hull::vmm::devices {

class Serial : public IoHandler {
 public:
  using Output = std::function<void(std::span<const uint8_t>)>;
  static constexpr size_t kFifoSize = 64;

  Serial(std::shared_ptr<IrqLine> irq, Output output);

  void Read(uint64_t offset, std::span<uint8_t> data) override;
  void Write(uint64_t offset, std::span<const uint8_t> data) override;

  // Host input (stdin). Bytes beyond the free FIFO space are dropped, as a
  // real UART drops them; returns how many were taken.
  size_t Enqueue(std::span<const uint8_t> bytes);

 private:
  uint8_t ReadRegister(uint64_t offset);
  void WriteRegister(uint64_t offset, uint8_t value);
  // Raises the IRQ (an edge) when an enabled cause is pending.
  void RaiseIfPending();
  bool loopback() const;

  std::shared_ptr<IrqLine> irq_;
  Output output_;
  std::mutex mu_;
  uint8_t ier_ = 0;
  uint8_t lcr_ = 0x03;  // 8N1
  uint8_t mcr_ = 0x08;  // OUT2: interrupts routed
  uint8_t scr_ = 0;
  uint8_t dll_ = 0x0c;  // 9600 baud
  uint8_t dlm_ = 0;
  bool fifo_enabled_ = false;
  bool thr_empty_pending_ = false;
  std::deque<uint8_t> rx_;
};

}  // namespace hull::vmm::devices
