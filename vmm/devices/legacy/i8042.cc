#include "devices/legacy/i8042.h"

namespace hull::vmm::devices {
namespace {
constexpr uint8_t kStatusOutputFull = 0x01, kStatusSystem = 0x04, kStatusCommand = 0x08,
                  kStatusUnlocked = 0x10;
constexpr uint8_t kControlKeyboardInterrupt = 0x01, kControlSystem = 0x04;
constexpr uint8_t kCmdReadControl = 0x20, kCmdWriteControl = 0x60, kCmdDisableAux = 0xa7,
                  kCmdEnableAux = 0xa8, kCmdTestAux = 0xa9, kCmdSelfTest = 0xaa,
                  kCmdTestKeyboard = 0xab, kCmdDisableKeyboard = 0xad, kCmdEnableKeyboard = 0xae,
                  kCmdReadOutputPort = 0xd0, kCmdWriteOutputPort = 0xd1, kCmdPulseReset = 0xfe;
constexpr uint8_t kSelfTestOk = 0x55, kInterfaceTestOk = 0x00;
constexpr size_t kBufferLimit = 16;
}  // namespace

I8042::I8042(std::shared_ptr<IrqLine> keyboard_irq, std::function<void()> reset)
    : keyboard_irq_(std::move(keyboard_irq)), reset_(std::move(reset)) {}

uint8_t I8042::Status() const {
  uint8_t status = kStatusUnlocked;
  if (!output_.empty()) status |= kStatusOutputFull;
  if (control_ & kControlSystem) status |= kStatusSystem;
  if (last_was_command_) status |= kStatusCommand;
  return status;
}

void I8042::Push(uint8_t byte) {
  if (output_.size() >= kBufferLimit) return;
  output_.push_back(byte);
}

void I8042::Read(uint64_t offset, std::span<uint8_t> data) {
  if (data.size() != 1) return;
  std::lock_guard lock(mu_);
  if (offset == kCommandOffset) {
    data[0] = Status();
  } else if (offset == kDataOffset && !output_.empty()) {
    data[0] = output_.front();
    output_.pop_front();
    // More scancodes queued: interrupt again for the next one.
    if (!output_.empty() && (control_ & kControlKeyboardInterrupt) && keyboard_irq_)
      keyboard_irq_->Trigger();
  }
}

void I8042::Write(uint64_t offset, std::span<const uint8_t> data) {
  if (data.size() != 1) return;
  const uint8_t value = data[0];
  bool reset = false;
  bool ack_irq = false;
  {
    std::lock_guard lock(mu_);
    if (offset == kCommandOffset) {
      last_was_command_ = true;
      pending_command_ = 0;
      switch (value) {
        case kCmdReadControl:
          Push(control_);
          break;
        case kCmdWriteControl:
        case kCmdWriteOutputPort:
          pending_command_ = value;
          break;
        case kCmdReadOutputPort:
          Push(0x01);
          break;  // reset line high (not asserted)
        case kCmdSelfTest:
          Push(kSelfTestOk);
          break;
        case kCmdTestKeyboard:
          Push(kInterfaceTestOk);
          break;
        case kCmdTestAux:
          Push(0xff);
          break;  // no mouse port
        case kCmdDisableAux:
        case kCmdEnableAux:
        case kCmdDisableKeyboard:
        case kCmdEnableKeyboard:
          break;
        case kCmdPulseReset:
          reset = true;
          break;
        default:
          break;
      }
    } else if (offset == kDataOffset) {
      last_was_command_ = false;
      if (pending_command_ == kCmdWriteControl) {
        control_ = value;
      } else if (pending_command_ == kCmdWriteOutputPort) {
        reset = (value & 0x01) == 0;  // bit 0 low drives the CPU's reset line
      } else {
        // A byte for the keyboard itself (GETID, SETLEDS, ...): ACK it and
        // interrupt, as the keyboard would; the atkbd driver waits for that.
        Push(0xfa);
        ack_irq = (control_ & kControlKeyboardInterrupt) != 0;
      }
      pending_command_ = 0;
    }
  }
  if (ack_irq && keyboard_irq_) keyboard_irq_->Trigger();
  if (reset && reset_) reset_();
}

void I8042::SendCtrlAltDel() {
  {
    std::lock_guard lock(mu_);
    for (uint8_t byte : {uint8_t{0x14}, uint8_t{0x11}, uint8_t{0xe0}, uint8_t{0x71}}) Push(byte);
  }
  if (keyboard_irq_) keyboard_irq_->Trigger();
}

}  // namespace hull::vmm::devices
