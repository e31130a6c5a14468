// runc's --console-socket protocol: the runtime makes a pseudo-terminal, sends
// its master to the caller (conmon, `runc --console-socket` users) over a unix
// socket as SCM_RIGHTS, with the terminal's name as the message, and keeps the
// other side. hull keeps the slave on the host and pumps it to and from the
// container's terminal in the guest, where the real tty lives.
#pragma once

#include <filesystem>
#include <string>

#include "sandbox/unique_fd.h"

namespace hull::shim {

struct HostPty {
  UniqueFd master;
  UniqueFd slave;          // raw mode: the guest's terminal does echo and line editing
  std::string slave_name;  // /dev/pts/N
};

// Opens a pty pair. The slave becomes the calling process's controlling
// terminal when it is a session leader without one (so it gets SIGWINCH on resizes).
// Throws SandboxError.
HostPty OpenHostPty();

// Connects to `socket` and sends `master_fd` with `name` as payload.
// Throws SandboxError naming the socket.
void SendConsoleMaster(const std::filesystem::path& socket, int master_fd, const std::string& name);

}  // namespace hull::shim
