// Puts the controlling terminal on stdin into raw mode while the guest owns
// the console (keys go to the guest as typed), and restores it on exit.
#pragma once

#include <termios.h>

namespace hull::vmm {

class RawTerminal {
 public:
  RawTerminal();  // no-op when stdin is not a terminal
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  bool active_ = false;
  termios saved_{};
};

}  // namespace hull::vmm
