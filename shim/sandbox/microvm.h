// One microVM for a sandbox: a hull-vmm process configured through its API
// (machine, kernel, drives, vsock) and started. Owns the VMM and the sandbox's
// state directory contents it created; destroying a MicroVm stops the VM.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/runtime_paths.h"
#include "sandbox/unique_fd.h"
#include "sandbox/vm_socket_dir.h"
#include "sandbox/vmm_client.h"
#include "sandbox/vmm_process.h"

namespace hull::shim {

struct DriveSpec {
  std::string id;
  std::filesystem::path path;
  bool read_only = true;
};

// A virtio-net device on a tap (the guest sees eth0, eth1, ... in order).
struct NetSpec {
  std::string id;
  std::string tap;        // host_dev_name, in the VMM's network namespace
  std::string guest_mac;  // empty: the VMM picks one
};

// A host directory served to the guest over virtio-fs (PUT /fs/{tag}); the
// guest mounts it with `mount -t virtiofs <tag> DIR`. With a jail it must be
// a shared mount point (hull-jailer --share-dir).
struct FsShareSpec {
  std::string tag;
  std::filesystem::path path;
};

// Guest RAM of a sandbox unless configured otherwise. Only memory the guest
// touches costs the host (and free page reporting returns what it frees),
// but the guest kernel's page descriptors (64 bytes per 4 KiB page, 1.6%)
// are touched for all of it at boot; docs/benchmarks.md has the
// measurements behind 128.
inline constexpr unsigned kDefaultGuestMemMib = 128;

struct MicroVmSpec {
  std::string id;
  std::filesystem::path state_dir;  // vmm.log (and the sockets, unless its path is too long) live here
  RuntimePaths runtime;
  unsigned vcpus = 1;
  unsigned mem_mib = kDefaultGuestMemMib;
  // A virtio-balloon with free page reporting: memory the guest frees goes
  // back to the host a few seconds later, instead of staying resident in
  // hull-vmm for the VM's life.
  bool free_page_reporting = true;
  std::vector<DriveSpec> drives;    // guest sees them as /dev/vda, /dev/vdb, ... in order
  std::vector<NetSpec> nets;
  std::vector<FsShareSpec> shares;
  std::string netns;                // start the VMM in this network namespace (path); empty: ours
  std::string extra_boot_args;
  bool die_with_parent = true;
  // How long hull-vmm may take to serve its API after it was spawned, and
  // to answer each request. Generous: with many sandboxes starting at once
  // on a busy (or nested) host the VMM's start and InstanceStart took over
  // 10 s (tools/bench/run scaling), and a VMM that dies is noticed at once.
  std::chrono::seconds vmm_timeout{60};
};

class MicroVm {
 public:
  // Starts hull-vmm, configures it and issues InstanceStart. Throws SandboxError.
  explicit MicroVm(MicroVmSpec spec);
  ~MicroVm();

  // Connects to a guest vsock port, retrying until the deadline (the agent
  // needs the guest to boot first). Fails early if the VMM exits meanwhile.
  UniqueFd DialGuest(uint32_t port, std::chrono::steady_clock::time_point deadline);

  // Waits for the VMM to exit by itself (guest shut down); kills it after
  // `timeout`. Returns the VMM's exit status.
  int WaitForShutdown(std::chrono::milliseconds timeout);

  // The sockets live in VmSocketDirFor(state_dir): the state directory, or a
  // short one when its path would not fit a unix socket's.
  std::filesystem::path socket_dir() const { return socket_dir_.path(); }
  std::filesystem::path vsock_socket() const { return socket_dir_.path() / "vsock.sock"; }
  std::filesystem::path log_file() const { return spec_.state_dir / "vmm.log"; }
  VmmClient& api() { return *api_; }
  VmmProcess& process() { return *process_; }
  std::string DefaultBootArgs() const;

 private:
  MicroVmSpec spec_;
  OwnedVmSocketDir socket_dir_;  // before the VMM: it goes after the VMM's sockets
  std::unique_ptr<VmmProcess> process_;
  std::unique_ptr<VmmClient> api_;
};

}  // namespace hull::shim
