#include "devices/legacy/pl011.h"

#include <array>

namespace hull::vmm::devices {
namespace {
// UARTPeriphID0-3 (part 0x011, ARM, revision r1p5) and UARTPCellID0-3
// (0xb105f00d), one byte per 32-bit register, as the AMBA bus reads them.
constexpr std::array<uint8_t, 4> kPeriphId = {0x11, 0x10, 0x14, 0x00};
constexpr std::array<uint8_t, 4> kPrimeCellId = {0x0d, 0xf0, 0x05, 0xb1};
}  // namespace

Pl011::Pl011(std::shared_ptr<IrqLine> irq, Output output)
    : irq_(std::move(irq)), output_(std::move(output)) {}

void Pl011::Read(uint64_t offset, std::span<uint8_t> data) {
  // Registers are 32 bits; byte and halfword reads (earlycon, 16-bit drivers)
  // see the low bytes. Unaligned accesses read as zero.
  if (data.empty() || data.size() > 4 || offset % 4 != 0) return;
  uint32_t value;
  {
    std::lock_guard lock(mu_);
    value = ReadRegister(offset);
    UpdateInterrupt();
  }
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(value >> (8 * i));
}

void Pl011::Write(uint64_t offset, std::span<const uint8_t> data) {
  if (data.empty() || data.size() > 4 || offset % 4 != 0) return;
  uint32_t value = 0;
  for (size_t i = 0; i < data.size(); ++i) value |= uint32_t{data[i]} << (8 * i);
  std::lock_guard lock(mu_);
  WriteRegister(offset, value);
  UpdateInterrupt();
}

size_t Pl011::Enqueue(std::span<const uint8_t> bytes) {
  std::lock_guard lock(mu_);
  if (cr_ & kCrLoopback) return 0;  // the line is disconnected in loopback
  size_t taken = 0;
  while (taken < bytes.size() && rx_.size() < fifo_depth()) Receive(bytes[taken++]);
  UpdateInterrupt();
  return taken;
}

size_t Pl011::fifo_depth() const {
  return (lcr_h_ & kLcrHFifoEnable) ? kFifoSize : 1;
}

void Pl011::Receive(uint8_t byte) {
  if (rx_.size() < fifo_depth()) rx_.push_back(byte);
}

uint32_t Pl011::RawInterrupts() const {
  // Receive: data waiting (the FIFO-level and timeout conditions both hold
  // as soon as a byte sits unread, since the host never trickles bytes in).
  const uint32_t rx = rx_.empty() ? 0 : (kIntRx | kIntRxTimeout);
  return rx | tx_ris_;
}

void Pl011::UpdateInterrupt() {
  const uint32_t masked = RawInterrupts() & imsc_;
  const bool newly_pending = (masked & ~last_masked_) != 0;
  last_masked_ = masked;
  if (newly_pending && irq_) irq_->Trigger();
}

uint32_t Pl011::ReadRegister(uint64_t offset) {
  if (offset >= kPeriphId0 && offset < kPeriphId0 + 16) return kPeriphId[(offset - kPeriphId0) / 4];
  if (offset >= kPrimeCellId0 && offset < kPrimeCellId0 + 16)
    return kPrimeCellId[(offset - kPrimeCellId0) / 4];
  switch (offset) {
    case kDr: {
      if (rx_.empty()) return 0;
      const uint8_t byte = rx_.front();
      rx_.pop_front();
      return byte;  // no framing/parity/break errors on a virtual line
    }
    case kRsr:
      return 0;
    case kFr: {
      uint32_t fr = kFrTxEmpty;
      if (rx_.empty()) fr |= kFrRxEmpty;
      if (rx_.size() >= fifo_depth()) fr |= kFrRxFull;
      return fr;
    }
    case kIlpr:
      return ilpr_;
    case kIbrd:
      return ibrd_;
    case kFbrd:
      return fbrd_;
    case kLcrH:
      return lcr_h_;
    case kCr:
      return cr_;
    case kIfls:
      return ifls_;
    case kImsc:
      return imsc_;
    case kRis:
      return RawInterrupts();
    case kMis:
      return RawInterrupts() & imsc_;
    case kDmacr:
      return dmacr_;
    default:
      return 0;
  }
}

void Pl011::WriteRegister(uint64_t offset, uint32_t value) {
  switch (offset) {
    case kDr: {
      const uint8_t byte = static_cast<uint8_t>(value);
      if (cr_ & kCrLoopback) {
        Receive(byte);
      } else if (output_) {
        output_({&byte, 1});
      }
      tx_ris_ = kIntTx;  // the byte left at once: the transmit FIFO is below its level again
      return;
    }
    case kRsr:
      return;  // clears errors; there are none
    case kIlpr:
      ilpr_ = value & 0xff;
      return;
    case kIbrd:
      ibrd_ = value & 0xffff;
      return;
    case kFbrd:
      fbrd_ = value & 0x3f;
      return;
    case kLcrH:
      // Turning the FIFO off flushes it, as on the hardware.
      if ((lcr_h_ & kLcrHFifoEnable) && !(value & kLcrHFifoEnable)) rx_.clear();
      lcr_h_ = value & 0xff;
      return;
    case kCr:
      cr_ = value & 0xffff;
      return;
    case kIfls:
      ifls_ = value & 0x3f;
      return;
    case kImsc:
      imsc_ = value & kIntAll;
      return;
    case kIcr:
      if (value & kIntTx) tx_ris_ = 0;
      return;  // receive interrupts clear by reading the data
    case kDmacr:
      dmacr_ = value & 0x7;
      return;
    default:
      return;  // FR, RIS, MIS and the IDs are read-only
  }
}

}  // namespace hull::vmm::devices
