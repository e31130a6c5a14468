#include "devices/legacy/serial.h"

namespace hull::vmm::devices {
namespace {
// Register offsets.
constexpr uint64_t kData = 0, kIer = 1, kIir = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7;
constexpr uint8_t kLcrDlab = 0x80;
constexpr uint8_t kIerRxAvailable = 0x01, kIerThrEmpty = 0x02, kIerMask = 0x0f;
constexpr uint8_t kIirNone = 0x01, kIirThrEmpty = 0x02, kIirRxAvailable = 0x04, kIirFifoBits = 0xc0;
constexpr uint8_t kFcrEnable = 0x01, kFcrClearRx = 0x02;
constexpr uint8_t kLsrDataReady = 0x01, kLsrThrEmpty = 0x20, kLsrIdle = 0x40;
constexpr uint8_t kMcrLoopback = 0x10;
constexpr uint8_t kMsrCts = 0x10, kMsrDsr = 0x20, kMsrDcd = 0x80;
}  // namespace

Serial::Serial(std::shared_ptr<IrqLine> irq, Output output)
    : irq_(std::move(irq)), output_(std::move(output)) {}

bool Serial::loopback() const {
  return (mcr_ & kMcrLoopback) != 0;
}

void Serial::Read(uint64_t offset, std::span<uint8_t> data) {
  if (data.size() != 1) return;  // the UART has byte registers only
  std::lock_guard lock(mu_);
  data[0] = ReadRegister(offset);
}

void Serial::Write(uint64_t offset, std::span<const uint8_t> data) {
  if (data.size() != 1) return;
  std::lock_guard lock(mu_);
  WriteRegister(offset, data[0]);
}

size_t Serial::Enqueue(std::span<const uint8_t> bytes) {
  std::lock_guard lock(mu_);
  if (loopback()) return 0;  // the line is disconnected while the driver tests loopback
  size_t taken = 0;
  while (taken < bytes.size() && rx_.size() < kFifoSize) rx_.push_back(bytes[taken++]);
  if (taken > 0) RaiseIfPending();
  return taken;
}

uint8_t Serial::ReadRegister(uint64_t offset) {
  switch (offset) {
    case kData: {
      if (lcr_ & kLcrDlab) return dll_;
      if (rx_.empty()) return 0;
      uint8_t byte = rx_.front();
      rx_.pop_front();
      return byte;
    }
    case kIer:
      return (lcr_ & kLcrDlab) ? dlm_ : ier_;
    case kIir: {
      uint8_t iir = kIirNone;
      if ((ier_ & kIerRxAvailable) && !rx_.empty()) {
        iir = kIirRxAvailable;
      } else if ((ier_ & kIerThrEmpty) && thr_empty_pending_) {
        iir = kIirThrEmpty;
        thr_empty_pending_ = false;  // reading IIR acknowledges THR-empty
      }
      return static_cast<uint8_t>(iir | (fifo_enabled_ ? kIirFifoBits : 0));
    }
    case kLcr:
      return lcr_;
    case kMcr:
      return mcr_;
    case kLsr:
      return static_cast<uint8_t>(kLsrThrEmpty | kLsrIdle | (rx_.empty() ? 0 : kLsrDataReady));
    case kMsr:
      if (loopback()) {
        // Loopback wires RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
        return static_cast<uint8_t>((mcr_ & 0x0f) << 4);
      }
      return kMsrCts | kMsrDsr | kMsrDcd;
    case kScr:
      return scr_;
    default:
      return 0;
  }
}

void Serial::WriteRegister(uint64_t offset, uint8_t value) {
  switch (offset) {
    case kData:
      if (lcr_ & kLcrDlab) {
        dll_ = value;
        return;
      }
      if (loopback()) {
        if (rx_.size() < kFifoSize) rx_.push_back(value);
      } else if (output_) {
        output_({&value, 1});
      }
      thr_empty_pending_ = true;  // the byte left at once
      RaiseIfPending();
      return;
    case kIer:
      if (lcr_ & kLcrDlab) {
        dlm_ = value;
        return;
      }
      ier_ = value & kIerMask;
      // Enabling THR-empty while the transmitter is empty interrupts at once.
      if (ier_ & kIerThrEmpty) thr_empty_pending_ = true;
      RaiseIfPending();
      return;
    case kIir:  // FCR on write
      fifo_enabled_ = (value & kFcrEnable) != 0;
      if (value & kFcrClearRx) rx_.clear();
      return;
    case kLcr:
      lcr_ = value;
      return;
    case kMcr:
      mcr_ = value & 0x1f;
      return;
    case kScr:
      scr_ = value;
      return;
    default:
      return;  // LSR/MSR are read-only
  }
}

void Serial::RaiseIfPending() {
  const bool pending =
      ((ier_ & kIerRxAvailable) && !rx_.empty()) || ((ier_ & kIerThrEmpty) && thr_empty_pending_);
  if (pending && irq_) irq_->Trigger();
}

}  // namespace hull::vmm::devices
