// The per-container host process of the `hull` CLI (the "keeper").
//
// With runc the container's init is a host process: conmon/Podman wait on its
// pid (from --pid-file) and hand the container's stdio over as the runtime's
// fds. In hull the container lives in a guest, so `hull create` forks a keeper
// that stands in for it: the keeper owns the microVM (hull-vmm dies with it),
// holds the stdio fds (or the host side of the --console-socket pty) and pumps
// them to and from the agent's streams, waits for the container, records the
// exit status in state.json, stops the VM and exits with the container's
// status (128+n for signal n). `hull exec` forks the same kind of keeper for
// one extra process (no VM of its own).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "sandbox/bundle_runner.h"
#include "sandbox/container_store.h"
#include "sandbox/runtime_paths.h"

namespace hull::shim {

struct CreateKeeperOptions {
  ContainerRecord record;         // id, bundle, rootfs, created, owner, annotations, terminal
  std::filesystem::path root;     // the store's root (--root)
  std::string config_text;        // the bundle's config.json
  RuntimePaths runtime;
  unsigned vcpus = 1;
  unsigned mem_mib = kDefaultGuestMemMib;
  std::chrono::seconds agent_timeout{60};
  std::string console_socket;     // required when record.terminal
  GuestNetworkFactory network;    // empty: the guest has no NIC
};

// Forks the keeper and returns its pid once the container exists in the guest
// (state.json says "created"). Throws SandboxError with the keeper's reason
// when it could not get there; the keeper has then stopped its VM and exited.
// The caller reserved ROOT/ID and removes it on failure.
pid_t SpawnCreateKeeper(const CreateKeeperOptions& options);

struct ExecKeeperOptions {
  std::string container_id;
  std::filesystem::path root;
  std::string exec_id;
  std::string process_json;       // an OCI "process" object
  bool terminal = false;
  std::string console_socket;     // required when terminal
};

// Forks a keeper for one process started in a running container; returns its
// pid once the process runs. Its exit status is the process's.
pid_t SpawnExecKeeper(const ExecKeeperOptions& options);

// The agent's vsock port (hull-agent serves gRPC there).
inline constexpr uint32_t kAgentVsockPort = 1024;

}  // namespace hull::shim
