// The ARM PrimeCell UART (PL011) as far as Linux's amba-pl011 driver and the
// pl011 earlycon need it: data register with a 32-byte receive FIFO, flags,
// baud divisors, line/control registers, interrupt mask/raw/masked/clear and
// the peripheral/PrimeCell ID registers the AMBA bus probes. Register facts
// from ARM DDI 0183 (PL011 TRM). Transmitted bytes leave at once, so the
// transmit FIFO is always empty.
//
// Interrupts: the line is an edge (an irqfd pulse), raised whenever a masked
// interrupt becomes pending; Linux's handler loops until UARTMIS reads 0, so
// nothing is lost between edges.
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

class Pl011 : public IoHandler {
 public:
  using Output = std::function<void(std::span<const uint8_t>)>;
  static constexpr size_t kFifoSize = 32;
  static constexpr uint64_t kWindowSize = 0x1000;

  // Register offsets.
  static constexpr uint64_t kDr = 0x000, kRsr = 0x004, kFr = 0x018, kIlpr = 0x020, kIbrd = 0x024,
                            kFbrd = 0x028, kLcrH = 0x02c, kCr = 0x030, kIfls = 0x034,
                            kImsc = 0x038, kRis = 0x03c, kMis = 0x040, kIcr = 0x044,
                            kDmacr = 0x048, kPeriphId0 = 0xfe0, kPrimeCellId0 = 0xff0;
  // Flag register bits.
  static constexpr uint32_t kFrBusy = 1u << 3, kFrRxEmpty = 1u << 4, kFrTxFull = 1u << 5,
                            kFrRxFull = 1u << 6, kFrTxEmpty = 1u << 7;
  // Interrupt bits (RIS/MIS/IMSC/ICR).
  static constexpr uint32_t kIntRx = 1u << 4, kIntTx = 1u << 5, kIntRxTimeout = 1u << 6,
                            kIntAll = 0x7ff;
  static constexpr uint32_t kCrLoopback = 1u << 7;
  static constexpr uint32_t kLcrHFifoEnable = 1u << 4;

  Pl011(std::shared_ptr<IrqLine> irq, Output output);

  void Read(uint64_t offset, std::span<uint8_t> data) override;
  void Write(uint64_t offset, std::span<const uint8_t> data) override;

  // Host input (stdin). Bytes beyond the free FIFO space are dropped, as a
  // real UART drops them; returns how many were taken.
  size_t Enqueue(std::span<const uint8_t> bytes);

 private:
  uint32_t ReadRegister(uint64_t offset);
  void WriteRegister(uint64_t offset, uint32_t value);
  void Receive(uint8_t byte);
  size_t fifo_depth() const;
  uint32_t RawInterrupts() const;
  // Pulses the line when a masked interrupt became pending since the last call.
  void UpdateInterrupt();

  std::shared_ptr<IrqLine> irq_;
  Output output_;
  std::mutex mu_;
  std::deque<uint8_t> rx_;
  uint32_t ibrd_ = 0, fbrd_ = 0, lcr_h_ = 0, ilpr_ = 0, dmacr_ = 0;
  uint32_t cr_ = 0x300;   // reset: TXE | RXE
  uint32_t ifls_ = 0x12;  // reset: both FIFOs half full
  uint32_t imsc_ = 0;
  uint32_t tx_ris_ = 0;       // latched transmit interrupt (set by each byte sent, cleared by ICR)
  uint32_t last_masked_ = 0;  // UARTMIS after the previous access
};

}  // namespace hull::vmm::devices
