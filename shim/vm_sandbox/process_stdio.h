// Connects one guest process's stdio to the fifos containerd gave the shim:
// stdout/stderr streams from the agent are written into their fifos, and the
// stdin fifo is read and forwarded to the agent until EOF (then CloseStdin).
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "sandbox/agent_client.h"
#include "sandbox/unique_fd.h"

namespace hull::vm_sandbox {

struct StdioPaths {
  std::string stdin_path;   // empty: no stdin
  std::string stdout_path;  // empty: output discarded
  std::string stderr_path;
  bool terminal = false;    // stdout carries the pty; stderr unused
};

class ProcessStdio {
 public:
  ProcessStdio(shim::AgentClient& agent, std::string container_id, std::string exec_id,
               StdioPaths paths);
  ~ProcessStdio();
  ProcessStdio(const ProcessStdio&) = delete;
  ProcessStdio& operator=(const ProcessStdio&) = delete;

  // Starts the copying threads (once the agent knows the process).
  void Start();
  // Waits until stdout/stderr are drained and their fifos closed: the agent
  // ends those streams when the process has exited.
  void WaitForOutput();
  // Stops forwarding stdin and tells the agent (containerd's CloseIO).
  void CloseStdin();

 private:
  void CopyOutput(bool stderr_stream, const std::string& path);
  void CopyInput();

  shim::AgentClient& agent_;
  std::string container_id_;
  std::string exec_id_;
  StdioPaths paths_;
  std::atomic<bool> stdin_closed_{false};
  shim::UniqueFd cancel_;  // eventfd: wakes the stdin thread
  std::thread stdout_thread_;
  std::thread stderr_thread_;
  std::thread stdin_thread_;
};

}  // namespace hull::vm_sandbox
