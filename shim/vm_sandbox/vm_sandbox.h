// The Task service's sandbox backed by a real microVM: the first container's
// Create boots hull-vmm with its rootfs as a read-only erofs disk (or, with
// io.hull.rootfs=virtiofs / HULL_ROOTFS=virtiofs, shares the snapshot and
// volumes over virtio-fs: pod_share.h), dials the agent over hybrid vsock,
// and from then on every task call is an agent call.
// The last Delete (or Shutdown) stops the VM and removes the state directory.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <spdlog/logger.h>

#include "sandbox/agent_client.h"
#include "sandbox/microvm.h"
#include "task/sandbox.h"
#include "vm_sandbox/drive_slots.h"
#include "vm_sandbox/pod_memory.h"
#include "vm_sandbox/pod_share.h"
#include "vm_sandbox/pod_network.h"
#include "vm_sandbox/process_stdio.h"

namespace hull::vm_sandbox {

// Under the shim's state root (/run/hull), on the filesystem of the sandbox
// state directories, as the cache's hard links need.
inline constexpr char kDefaultImageCacheDir[] = "/run/hull/rootfs-cache";

struct VmSandboxOptions {
  std::filesystem::path state_dir;  // this sandbox's own directory (created, then removed)
  shim::RuntimePaths runtime;
  unsigned vcpus = 1;
  unsigned mem_mib = shim::kDefaultGuestMemMib;
  std::chrono::seconds agent_timeout{60};
  // Rootfs images of containerd snapshots, shared by every shim on the host
  // and keyed by layer chain (shim::RootfsImageCache); empty: no cache.
  std::filesystem::path image_cache_dir = kDefaultImageCacheDir;
  uint64_t image_cache_max_bytes = uint64_t{1} << 30;
  // Drives booted besides the first container's rootfs, for the sandbox's
  // later containers (see drive_slots.h): at most 1 + this many at once.
  unsigned spare_rootfs_slots = 3;
  std::shared_ptr<spdlog::logger> log;  // optional
};

class VmSandbox final : public task::Sandbox {
 public:
  explicit VmSandbox(VmSandboxOptions options);
  ~VmSandbox() override;

  void SetEventSink(task::SandboxEventSink* sink) override;
  task::v2::StateResponse State(const task::v2::StateRequest& request) override;
  task::v2::CreateTaskResponse Create(const task::v2::CreateTaskRequest& request) override;
  task::v2::StartResponse Start(const task::v2::StartRequest& request) override;
  task::v2::DeleteResponse Delete(const task::v2::DeleteRequest& request) override;
  task::v2::PidsResponse Pids(const task::v2::PidsRequest& request) override;
  void Pause(const task::v2::PauseRequest& request) override;
  void Resume(const task::v2::ResumeRequest& request) override;
  void Kill(const task::v2::KillRequest& request) override;
  void Exec(const task::v2::ExecProcessRequest& request) override;
  void ResizePty(const task::v2::ResizePtyRequest& request) override;
  void CloseIO(const task::v2::CloseIORequest& request) override;
  void Update(const task::v2::UpdateTaskRequest& request) override;
  task::v2::WaitResponse Wait(const task::v2::WaitRequest& request,
                              const ttrpc::CallContext& call) override;
  task::v2::StatsResponse Stats(const task::v2::StatsRequest& request) override;
  size_t ContainerCount() const override;
  void Shutdown() override;

 private:
  enum class Phase { kCreated, kRunning, kPaused, kStopped };
  struct Process {
    std::string exec_id;               // empty: the container's init
    std::string process_json;          // exec only: the OCI process, sent at Start
    StdioPaths stdio;
    Phase phase = Phase::kCreated;
    uint32_t guest_pid = 0;
    uint32_t exit_status = 0;
    google::protobuf::Timestamp exited_at;
    std::unique_ptr<ProcessStdio> io;
    std::thread waiter;                // WaitProcess, then the exit event
  };
  struct Container {
    std::string id;
    std::string bundle;
    ContainerMemory memory;  // what the pod's memory plan counts
    Process init;
    std::map<std::string, std::unique_ptr<Process>> execs;
  };

  Container& FindContainer(const std::string& id);
  Process& FindProcess(const std::string& id, const std::string& exec_id);
  void BootVm(const task::v2::CreateTaskRequest& request, const std::string& config_json, RootfsMode mode);
  // virtio-fs: mounts the container's snapshot and volumes into the share.
  // `rootfs_dir` is used when containerd sent no rootfs mounts.
  void ShareRootfs(const task::v2::CreateTaskRequest& request, const std::filesystem::path& rootfs_dir,
                   const std::vector<ShareBind>& binds);
  std::filesystem::path RootfsImagePath(size_t slot) const;
  std::filesystem::path EmptySlotImagePath() const;
  // Builds (or takes from the cache) the container's read-only rootfs image.
  void BuildRootfsImage(const task::v2::CreateTaskRequest& request, const std::string& config_json,
                        const std::filesystem::path& image);
  // A later container's rootfs: a free drive slot, its image swapped in with
  // PATCH /drives/{id}. Returns the slot; throws (holding nothing) when full.
  size_t AttachRootfs(const task::v2::CreateTaskRequest& request, const std::string& config_json);
  // Points the container's slot back at the placeholder and frees it (after
  // the agent unmounted it).
  void DetachRootfs(const std::string& container_id);
  // Puts the read-only rootfs image at `image`: from the cache when the
  // snapshot's layer chain was built before, else built from the mounts.
  void PrepareRootfsImage(const task::v2::CreateTaskRequest& request, const std::filesystem::path& image);
  // Logs WHAT with the milliseconds since SINCE (the start-up breakdown in
  // docs/benchmarks.md).
  void LogPhase(std::string_view what, std::chrono::steady_clock::time_point since) const;
  // The pod's memory plan with `changed` (a container being created or
  // updated) in place of its current entry; throws TtrpcError when the VM
  // cannot hold it.
  PodMemoryPlan PlanMemoryLocked(const std::string& changed_id, const ContainerMemory& changed,
                                 unsigned boot_mib) const;
  // Sets the balloon to the plan's size when it changed (PATCH /balloon).
  void ApplyMemoryPlanLocked(const PodMemoryPlan& plan);
  void StartWaiter(const std::string& container_id, Process& process);
  // Stops the VM and removes the state directory; hands back the agent client.
  std::unique_ptr<shim::AgentClient> StopVmLocked();
  uint32_t HostPid() const;

  VmSandboxOptions options_;
  mutable std::mutex mu_;
  std::condition_variable exited_;
  task::SandboxEventSink* sink_ = nullptr;
  std::unique_ptr<PodNetwork> network_;  // before vm_: outlives it
  std::unique_ptr<shim::MicroVm> vm_;
  std::unique_ptr<shim::AgentClient> agent_;
  std::optional<DriveSlots> slots_;  // while the VM runs (erofs mode)
  RootfsMode mode_ = RootfsMode::kErofs;  // the running VM's, chosen by its first container
  std::unique_ptr<PodShare> share_;       // while the VM runs (virtio-fs mode)
  unsigned boot_mib_ = 0;            // the running VM's memory
  unsigned balloon_mib_ = 0;         // its balloon's target
  std::map<std::string, std::unique_ptr<Container>> containers_;
};

}  // namespace hull::vm_sandbox
