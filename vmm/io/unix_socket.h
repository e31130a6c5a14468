// Non-blocking unix stream sockets for device back ends (the vsock
// device's host side, consoles).
#pragma once

#include <string>

#include "io/unique_fd.h"

namespace hull::vmm::io {

// Binds and listens on `path`. A leftover socket file nobody listens on
// (a crashed VMM's) is replaced; a live one is refused. Throws IoError.
UniqueFd ListenUnix(const std::string& path);

// The checks ListenUnix() makes, without binding: throws IoError when
// `path` could not be listened on (too long, parent missing, in use, not a
// socket). For validating configuration before a VM starts.
void CheckUnixListenPath(const std::string& path);

// Connects to `path` without blocking; an invalid fd (errno set) when
// nobody listens there or the listener's backlog is full.
UniqueFd ConnectUnix(const std::string& path);

}  // namespace hull::vmm::io
