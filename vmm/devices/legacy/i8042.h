// The PS/2 controller (i8042) as far as a microVM needs it: Linux resets the
// machine through it (`reboot=k`: command 0xfe, or the output port's reset
// line), probes it at boot, and the host can type Ctrl-Alt-Del into it.
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

class I8042 : public IoHandler {
 public:
  // Offsets on the PIO bus when registered at 0x60 with length 5:
  static constexpr uint64_t kDataOffset = 0;     // port 0x60
  static constexpr uint64_t kCommandOffset = 4;  // port 0x64

  I8042(std::shared_ptr<IrqLine> keyboard_irq, std::function<void()> reset);

  void Read(uint64_t offset, std::span<uint8_t> data) override;
  void Write(uint64_t offset, std::span<const uint8_t> data) override;

  // Queues the scancodes of Ctrl+Alt+Del (make codes, set 2) and interrupts.
  void SendCtrlAltDel();

 private:
  void Push(uint8_t byte);
  uint8_t Status() const;

  std::shared_ptr<IrqLine> keyboard_irq_;
  std::function<void()> reset_;
  std::mutex mu_;
  uint8_t control_ = 0x01 | 0x04;  // keyboard interrupt on, system flag
  uint8_t pending_command_ = 0;    // command waiting for its data byte
  bool last_was_command_ = false;
  std::deque<uint8_t> output_;
};

}  // namespace hull::vmm::devices
