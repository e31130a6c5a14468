// Signals as `kill` takes them: a number (9), a name (KILL) or SIG-name (SIGKILL).
#pragma once

#include <optional>
#include <string>

namespace hull::cli {

// The signal number, or nullopt when `text` names none (valid: 1..64).
std::optional<int> ParseSignal(const std::string& text);

}  // namespace hull::cli
