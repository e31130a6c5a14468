#include "vm_sandbox/vm_sandbox.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "sandbox/host_binds.h"
#include "sandbox/rootfs_image.h"
#include "sandbox/sandbox_error.h"
#include "vm_sandbox/cgroup_metrics.h"
#include "vm_sandbox/drive_slots.h"
#include "vm_sandbox/mount_table.h"
#include "vm_sandbox/pod_bind_roots.h"
#include "vm_sandbox/pod_network.h"
#include "vm_sandbox/rootfs_mounts.h"
#include "vm_sandbox/sandbox_state.h"

namespace hull::vm_sandbox {
namespace fs = std::filesystem;
namespace v2 = task::v2;
using ttrpc::Code;
using ttrpc::TtrpcError;

namespace {

constexpr uint32_t kAgentPort = 1024;

// Runs `f`, turning sandbox failures into the status containerd expects.
template <typename F>
auto Translate(const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const shim::SandboxError& e) {
    const int code = e.code();
    throw TtrpcError(code > 0 && code <= 16 ? static_cast<Code>(code) : Code::kUnknown,
                     std::string(what) + ": " + e.what());
  }
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return {std::istreambuf_iterator<char>(in), {}};
}

// Where the snapshots of a container's bind mounts are staged while its
// rootfs image is built (see shim::TakeBindsIntoImage).
fs::path BindSnapshotsDir(const fs::path& state_dir, const std::string& container_id) {
  return state_dir / ("binds-" + container_id);
}

// Removes a directory when it goes out of scope.
struct RemovedOnExit {
  fs::path dir;
  ~RemovedOnExit() {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
};

// A container without a pid namespace of its own keeps its other processes
// (and with them its output pipes, which its exit event waits for) when its
// init exits: kill what is left in its cgroup, as runc does.
void KillLeftoversOfSharedPidNamespace(shim::AgentClient& agent, const fs::path& bundle,
                                       const std::string& container_id, spdlog::logger* log) {
  const nlohmann::json spec = nlohmann::json::parse(ReadFile(bundle / "config.json"), nullptr, false);
  if (!spec.is_object() || shim::HasOwnPidNamespace(spec)) return;
  try {
    agent.SignalProcess(container_id, "", SIGKILL, /*all=*/true);
  } catch (const shim::SandboxError& e) {
    if (log) log->warn("killing what is left of {}: {}", container_id, e.what());
  }
}

// An OCI spec's linux.resources, or null.
nlohmann::json ResourcesOf(const nlohmann::json& spec) {
  const auto pointer = "/linux/resources"_json_pointer;
  return spec.is_object() && spec.contains(pointer) ? spec.at(pointer) : nlohmann::json();
}

bool NamesMemoryLimit(const nlohmann::json& resources) {
  return resources.is_object() && resources.contains("memory") && resources["memory"].is_object() &&
         resources["memory"].contains("limit");
}

::containerd::v1::types::Status ToStatus(int phase) {
  switch (phase) {
    case 0: return ::containerd::v1::types::CREATED;
    case 1: return ::containerd::v1::types::RUNNING;
    case 2: return ::containerd::v1::types::PAUSED;
    default: return ::containerd::v1::types::STOPPED;
  }
}

}  // namespace

VmSandbox::VmSandbox(VmSandboxOptions options) : options_(std::move(options)) {}

VmSandbox::~VmSandbox() { Shutdown(); }

void VmSandbox::SetEventSink(task::SandboxEventSink* sink) {
  std::lock_guard lock(mu_);
  sink_ = sink;
}

size_t VmSandbox::ContainerCount() const {
  std::lock_guard lock(mu_);
  return containers_.size();
}

uint32_t VmSandbox::HostPid() const {
  // containerd shows a task's pid and may signal it: give the VMM's, the
  // host process that holds the container (as Kata gives its hypervisor's).
  return vm_ ? static_cast<uint32_t>(vm_->process().pid()) : 0;
}

VmSandbox::Container& VmSandbox::FindContainer(const std::string& id) {
  auto it = containers_.find(id);
  if (it == containers_.end()) throw TtrpcError(Code::kNotFound, "container " + id + " not found");
  return *it->second;
}

VmSandbox::Process& VmSandbox::FindProcess(const std::string& id, const std::string& exec_id) {
  Container& c = FindContainer(id);
  if (exec_id.empty()) return c.init;
  auto it = c.execs.find(exec_id);
  if (it == c.execs.end()) {
    throw TtrpcError(Code::kNotFound, "exec " + exec_id + " not found in container " + id);
  }
  return *it->second;
}

fs::path VmSandbox::RootfsImagePath(size_t slot) const {
  return options_.state_dir / (slot == 0 ? std::string("rootfs.erofs") : "rootfs" + std::to_string(slot) + ".erofs");
}

fs::path VmSandbox::EmptySlotImagePath() const { return options_.state_dir / "empty-slot.img"; }

void VmSandbox::BuildRootfsImage(const v2::CreateTaskRequest& request, const std::string& config_json,
                                 const fs::path& image) {
  nlohmann::json config = nlohmann::json::parse(config_json, nullptr, false);
  // Bind mounts (CRI's /etc/hosts, hostname, resolv.conf) name host files the
  // guest cannot see: their snapshots go into the image (Create drops the mounts).
  RemovedOnExit staged;
  if (config.is_object()) {
    const std::vector<shim::ImageFile> files = shim::TakeBindsIntoImage(config);
    if (!files.empty()) {
      staged.dir = BindSnapshotsDir(options_.state_dir, request.id());
      shim::StageImageFiles(files, staged.dir);
    }
  }
  if (request.rootfs_size() > 0) {
    PrepareRootfsImage(request, image);
  } else {
    std::string root = config.is_object() ? config.value("/root/path"_json_pointer, std::string("rootfs"))
                                          : std::string("rootfs");
    fs::path rootfs = fs::path(root).is_absolute() ? fs::path(root) : fs::path(request.bundle()) / root;
    if (staged.dir.empty()) {
      shim::BuildErofsImage(rootfs, image);
    } else {
      const fs::path merged_dir = staged.dir.string() + ".merged";
      {
        MountedRootfs merged({FilesOverTree(staged.dir, rootfs)}, merged_dir);
        shim::BuildErofsImage(merged.target(), image);
      }
      std::error_code ec;
      fs::remove(merged_dir, ec);
    }
  }
}

size_t VmSandbox::AttachRootfs(const v2::CreateTaskRequest& request, const std::string& config_json) {
  size_t slot = 0;
  try {
    slot = slots_->Acquire(request.id());
  } catch (const DriveSlotsError& e) {
    throw TtrpcError(Code::kResourceExhausted, std::string("create: ") + e.what());
  }
  const fs::path image = RootfsImagePath(slot);
  try {
    BuildRootfsImage(request, config_json, image);
    const std::string drive = DriveSlots::DriveId(slot);
    vm_->api().Patch("/drives/" + drive, {{"drive_id", drive}, {"path_on_host", image.string()}});
    if (options_.log) options_.log->info("rootfs of {} swapped into drive {} ({})", request.id(), drive, DriveSlots::GuestDevice(slot));
  } catch (...) {
    std::error_code ec;
    fs::remove(image, ec);
    slots_->Release(request.id());
    throw;
  }
  return slot;
}

void VmSandbox::DetachRootfs(const std::string& container_id) {
  if (!slots_ || !vm_) return;
  const long slot = slots_->SlotOf(container_id);
  if (slot < 0) return;
  const std::string drive = DriveSlots::DriveId(static_cast<size_t>(slot));
  try {
    vm_->api().Patch("/drives/" + drive, {{"drive_id", drive}, {"path_on_host", EmptySlotImagePath().string()}});
  } catch (const shim::SandboxError& e) {
    // The slot keeps its image and stays taken: handing it out again could
    // show the next container a device that still holds this one's rootfs.
    if (options_.log) options_.log->warn("drive {} of {} not freed: {}", drive, container_id, e.what());
    return;
  }
  slots_->Release(container_id);
  std::error_code ec;
  fs::remove(RootfsImagePath(static_cast<size_t>(slot)), ec);  // a cache link: the cache keeps its entry
}

void VmSandbox::BootVm(const v2::CreateTaskRequest& request, const std::string& config_json, RootfsMode mode) {
  fs::create_directories(options_.state_dir);
  mode_ = mode;
  shim::MicroVmSpec spec;
  spec.id = request.id();
  spec.state_dir = options_.state_dir;
  spec.runtime = options_.runtime;
  spec.vcpus = options_.vcpus;
  spec.mem_mib = boot_mib_;
  // A host slow enough to need a longer wait for the agent (HULL_START_TIMEOUT)
  // is as slow at starting hull-vmm: measured with 50 at once in the nested L1.
  spec.vmm_timeout = std::max(spec.vmm_timeout, options_.agent_timeout);
  if (mode == RootfsMode::kVirtioFs) {
    // No disks: every container's rootfs and volumes go through the one share.
    share_ = std::make_unique<PodShare>(options_.state_dir / "share");
    spec.shares.push_back({kShareTag, share_->root()});
  } else {
    const fs::path image = RootfsImagePath(0);
    BuildRootfsImage(request, config_json, image);
    // Spare read-only drives for the sandbox's later containers (no hot-plug:
    // see drive_slots.h), each on a one-sector placeholder, which no erofs
    // image can be mistaken for (its superblock starts at byte 1024).
    {
      std::ofstream empty(EmptySlotImagePath(), std::ios::binary | std::ios::trunc);
      empty << std::string(512, '\0');
      if (!empty.flush()) throw shim::SandboxError("cannot write " + EmptySlotImagePath().string());
    }
    slots_.emplace(1 + options_.spare_rootfs_slots);
    slots_->Acquire(request.id());  // slot 0: "rootfs", /dev/vda
    spec.drives.push_back({"rootfs", image, /*read_only=*/true});
    for (size_t slot = 1; slot < slots_->count(); ++slot) {
      spec.drives.push_back({DriveSlots::DriveId(slot), EmptySlotImagePath(), true});
    }
  }
  if (auto netns = NetworkNamespacePath(config_json)) {  // the pod's: taps mirrored to its veths
    network_ = std::make_unique<PodNetwork>(*netns, options_.log);
    spec.netns = *netns;
    for (const auto& link : network_->links()) spec.nets.push_back({link.guest_name, link.tap, link.itf.mac});
  }
  // The shim's threads come and go; a per-thread parent-death signal would
  // kill the VM with the wrong thread. The shim stops the VM itself.
  spec.die_with_parent = false;
  const auto spawning = std::chrono::steady_clock::now();
  vm_ = std::make_unique<shim::MicroVm>(spec);
  RecordVmmPid(options_.state_dir, vm_->process().pid());
  LogPhase("microVM configured and started (hull-vmm spawned, API, InstanceStart)", spawning);
  const auto dialing = std::chrono::steady_clock::now();
  // A guest starved of CPU (many booting at once) is as slow at each call
  // (CreateContainer: over 120 s with 50 at once in the nested L1) as at
  // booting: a longer agent timeout lengthens the calls' deadline too.
  agent_ = std::make_unique<shim::AgentClient>(
      vm_->DialGuest(kAgentPort, std::chrono::steady_clock::now() + options_.agent_timeout),
      std::max<std::chrono::milliseconds>(shim::kDefaultAgentCallTimeout, options_.agent_timeout));
  agent_->Health();
  LogPhase("guest agent reachable (kernel boot, init, agent listening)", dialing);
  shim::agentpb::CreateSandboxRequest sandbox;
  sandbox.set_sandbox_id(request.id());
  // The guest's hostname: the spec's, else the container id (as Docker does
  // with a short id), capped at the kernel's 64-byte limit.
  nlohmann::json parsed = nlohmann::json::parse(config_json, nullptr, false);
  std::string hostname = parsed.is_object() ? parsed.value("hostname", std::string()) : std::string();
  sandbox.set_hostname((hostname.empty() ? request.id() : hostname).substr(0, 63));
  if (network_) DescribeForAgent(*network_, sandbox);
  if (share_) {  // mounted once; containers come and go below it
    auto* mount = sandbox.add_guest_mounts();
    mount->set_source(kShareTag);
    mount->set_fstype("virtiofs");
    mount->set_mount_point(kGuestShareDir);
  }
  agent_->CreateSandbox(sandbox);
}

void VmSandbox::ShareRootfs(const v2::CreateTaskRequest& request, const fs::path& rootfs_dir,
                            const std::vector<ShareBind>& binds) {
  std::vector<RootfsMount> mounts;
  for (const auto& m : request.rootfs()) {
    mounts.push_back({m.type(), m.source(), {m.options().begin(), m.options().end()}});
  }
  const auto sharing = std::chrono::steady_clock::now();
  share_->AddContainer(request.id(), mounts, rootfs_dir, binds);
  LogPhase("rootfs and " + std::to_string(binds.size()) + " volume(s) of " + request.id() +
               " mounted into the virtio-fs share",
           sharing);
}

void VmSandbox::LogPhase(std::string_view what, std::chrono::steady_clock::time_point since) const {
  if (!options_.log) return;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - since)
                      .count();
  options_.log->info("{} ({} ms)", what, ms);
}

void VmSandbox::PrepareRootfsImage(const v2::CreateTaskRequest& request, const fs::path& image) {
  std::vector<RootfsMount> mounts;
  for (const auto& m : request.rootfs()) {
    mounts.push_back({m.type(), m.source(), {m.options().begin(), m.options().end()}});
  }
  // Snapshots of bind mounts staged by BuildRootfsImage, laid over the rootfs.
  const fs::path binds = BindSnapshotsDir(options_.state_dir, request.id());
  std::error_code ec;
  const bool with_binds = fs::is_directory(binds, ec);
  auto build = [&](const fs::path& out) {
    MountedRootfs mounted(mounts, fs::path(request.bundle()) / "rootfs");
    if (!with_binds) {
      shim::BuildErofsImage(mounted.target(), out);
      return;
    }
    const fs::path merged_dir = binds.string() + ".merged";
    {
      MountedRootfs merged({FilesOverTree(binds, mounted.target())}, merged_dir);
      shim::BuildErofsImage(merged.target(), out);
    }
    fs::remove(merged_dir, ec);
  };
  std::optional<std::string> key;
  if (!options_.image_cache_dir.empty() && !with_binds) {  // an image with a pod's files is no shared layer
    if (auto layers = SnapshotLayersOf(mounts)) key = shim::LayerChainCacheKey(layers->lowerdirs, layers->upperdir);
  }
  if (!key) {
    build(image);
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  shim::RootfsImageCache cache(options_.image_cache_dir, options_.image_cache_max_bytes);
  const bool reused = cache.Provide(*key, image, build);
  if (options_.log) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    options_.log->info("rootfs image {} {} ({} ms)", cache.EntryPath(*key).string(),
                       reused ? "reused from the cache" : "built and cached", ms);
  }
}

v2::CreateTaskResponse VmSandbox::Create(const v2::CreateTaskRequest& request) {
  std::lock_guard lock(mu_);
  if (containers_.count(request.id()) != 0) {
    throw TtrpcError(Code::kAlreadyExists, "container " + request.id() + " already exists");
  }
  if (!request.checkpoint().empty()) {
    throw TtrpcError(Code::kUnimplemented, "hull cannot restore from a checkpoint");
  }
  const std::string config_json = ReadFile(fs::path(request.bundle()) / "config.json");
  if (config_json.empty()) {
    throw TtrpcError(Code::kInvalidArgument, "no readable config.json in bundle " + request.bundle());
  }
  // What the agent gets: bind mounts dropped (their snapshots go into the
  // image), a pod container's namespaces pointed at its sandbox container's.
  nlohmann::json guest_spec = nlohmann::json::parse(config_json, nullptr, false);
  if (!guest_spec.is_object()) {
    throw TtrpcError(Code::kInvalidArgument, "config.json in bundle " + request.bundle() + " is not a JSON object");
  }
  const shim::CriIdentity cri = shim::CriIdentityOf(guest_spec);
  if (cri.role != shim::CriRole::kNone) {  // a pod's volumes only from allowed host paths
    try {
      CheckPodBindSources(guest_spec, cri.sandbox_id, PodBindRoots(std::getenv(kPodBindRootsVariable)));
    } catch (const PodBindRootsError& e) {
      throw TtrpcError(Code::kInvalidArgument, "create " + request.id() + ": " + e.what());
    }
  }
  // erofs: bind mounts dropped (their snapshots go into the image);
  // virtio-fs: served live from the share (the first container's choice
  // holds for the whole sandbox).
  RootfsMode mode = mode_;
  std::vector<ShareBind> share_binds;
  try {
    if (!vm_) mode = RootfsModeOf(guest_spec, std::getenv(kRootfsVariable));
    if (mode == RootfsMode::kVirtioFs) share_binds = ShareBindMounts(guest_spec, request.id());
  } catch (const PodShareError& e) {
    throw TtrpcError(Code::kInvalidArgument, "create " + request.id() + ": " + e.what());
  }
  if (mode == RootfsMode::kErofs) Translate("create", [&] { shim::TakeBindsIntoImage(guest_spec); });
  if (cri.role == shim::CriRole::kContainer) {
    auto sandbox = containers_.find(cri.sandbox_id);
    if (sandbox == containers_.end() || !vm_) {
      throw TtrpcError(Code::kFailedPrecondition,
                       "container " + request.id() + " belongs to pod sandbox '" + cri.sandbox_id +
                           "', whose sandbox container is not running in this shim's microVM: run the pod first");
    }
    shim::JoinSandboxNamespaces(guest_spec, sandbox->second->init.guest_pid);
  }
  // The pod's memory with this container's limit: refused here, before
  // anything starts, when the VM (booted or to boot) cannot hold it.
  ContainerMemory memory;
  memory.is_pod_sandbox = cri.role == shim::CriRole::kSandbox;
  unsigned boot_mib = boot_mib_;
  try {
    memory.limit = MemoryLimitOf(ResourcesOf(guest_spec));
    if (!vm_) boot_mib = BootMemoryMib(guest_spec, options_.mem_mib);
  } catch (const PodMemoryError& e) {
    throw TtrpcError(Code::kInvalidArgument, std::string("create: ") + e.what());
  }
  const PodMemoryPlan plan = PlanMemoryLocked(request.id(), memory, boot_mib);
  const std::string guest_config_json = WithoutNetworkNamespace(guest_spec.dump());
  auto container = std::make_unique<Container>();
  container->id = request.id();
  container->bundle = request.bundle();
  container->memory = memory;
  container->init.stdio = {request.stdin(), request.stdout(), request.stderr(), request.terminal()};
  Translate("create", [&] {
    // The sandbox's first container boots the VM on its rootfs; later ones
    // have theirs swapped into a spare drive slot.
    const bool first = !vm_;
    size_t slot = 0;
    try {
      if (first) {
        boot_mib_ = boot_mib;
        BootVm(request, config_json, mode);
      } else if (mode == RootfsMode::kErofs) {
        slot = AttachRootfs(request, config_json);
      }
      shim::agentpb::CreateContainerRequest create;
      create.set_container_id(request.id());
      create.set_oci_config_json(guest_config_json);
      if (mode == RootfsMode::kVirtioFs) {
        const std::string root = guest_spec.value("/root/path"_json_pointer, std::string("rootfs"));
        const fs::path rootfs_dir = fs::path(root).is_absolute() ? fs::path(root) : fs::path(request.bundle()) / root;
        ShareRootfs(request, rootfs_dir, share_binds);
        create.mutable_rootfs()->set_directory(GuestRootfsDir(request.id()));
      } else {
        auto* block = create.mutable_rootfs()->mutable_block();
        block->set_device(DriveSlots::GuestDevice(slot));
        block->set_fstype("erofs");
        block->set_writable_overlay(true);
        block->set_expected_size_bytes(fs::file_size(RootfsImagePath(slot)));
      }
      const auto creating = std::chrono::steady_clock::now();
      container->init.guest_pid = agent_->CreateContainer(create);
      LogPhase("container created in the guest", creating);
    } catch (...) {
      // nothing half-made stays behind
      if (first) {
        StopVmLocked();
      } else if (share_) {
        share_->RemoveContainer(request.id());
      } else {
        DetachRootfs(request.id());
      }
      throw;
    }
  });
  container->init.io = std::make_unique<ProcessStdio>(*agent_, request.id(), "", container->init.stdio);
  container->init.io->Start();
  v2::CreateTaskResponse response;
  response.set_pid(HostPid());
  containers_.emplace(request.id(), std::move(container));
  try {
    ApplyMemoryPlanLocked(plan);
  } catch (const shim::SandboxError& e) {
    // The guest's cgroup still holds the container to its limit; the host
    // just does not get the rest of the VM's memory back.
    if (options_.log) options_.log->warn("balloon not resized for {}: {}", request.id(), e.what());
  }
  return response;
}

void VmSandbox::StartWaiter(const std::string& container_id, Process& process) {
  process.waiter = std::thread([this, container_id, &process] {
    uint32_t status = 255;
    try {
      status = static_cast<uint32_t>(agent_->WaitProcess(container_id, process.exec_id).exit_status());
      if (process.exec_id.empty()) {
        fs::path bundle;
        {
          std::lock_guard lock(mu_);
          auto it = containers_.find(container_id);
          if (it != containers_.end()) bundle = it->second->bundle;
        }
        if (!bundle.empty()) KillLeftoversOfSharedPidNamespace(*agent_, bundle, container_id, options_.log.get());
      }
    } catch (const shim::SandboxError& e) {
      // The VM went away under the process: report it as killed, and log why
      // (once per container, for its init process).
      status = 128 + 9;
      std::lock_guard lock(mu_);
      if (vm_ && process.exec_id.empty() && options_.log) {
        // A killed VMM is reaped a moment after its vsock stream breaks.
        const std::optional<int> exit = vm_->process().WaitForExit(std::chrono::milliseconds(1000));
        options_.log->warn("container {}: the microVM went away under it ({}): {}", container_id, e.what(),
                           shim::DescribeVmmExit(exit, vm_->process().LogTail()));
      }
    }
    if (process.io) process.io->WaitForOutput();  // all output delivered before the exit event
    task::SandboxEventSink* sink = nullptr;
    google::protobuf::Timestamp exited_at = google::protobuf::util::TimeUtil::GetCurrentTime();
    uint32_t pid = 0;
    {
      std::lock_guard lock(mu_);
      process.exit_status = status;
      process.exited_at = exited_at;
      process.phase = Phase::kStopped;
      sink = sink_;
      pid = HostPid();
    }
    exited_.notify_all();
    if (sink) sink->ProcessExited(container_id, process.exec_id, pid, status, exited_at);
  });
}

v2::StartResponse VmSandbox::Start(const v2::StartRequest& request) {
  std::lock_guard lock(mu_);
  Process& process = FindProcess(request.id(), request.exec_id());
  if (process.phase != Phase::kCreated) {
    throw TtrpcError(Code::kFailedPrecondition, "process already started");
  }
  Translate("start", [&] {
    if (process.exec_id.empty()) {
      agent_->StartContainer(request.id());
    } else {
      process.guest_pid = agent_->ExecProcess(request.id(), process.exec_id, process.process_json);
      process.io = std::make_unique<ProcessStdio>(*agent_, request.id(), process.exec_id, process.stdio);
      process.io->Start();
    }
  });
  process.phase = Phase::kRunning;
  StartWaiter(request.id(), process);
  v2::StartResponse response;
  response.set_pid(HostPid());
  return response;
}

v2::DeleteResponse VmSandbox::Delete(const v2::DeleteRequest& request) {
  std::unique_lock lock(mu_);
  Container& container = FindContainer(request.id());
  Process& process = FindProcess(request.id(), request.exec_id());
  if (process.phase == Phase::kRunning || process.phase == Phase::kPaused) {
    throw TtrpcError(Code::kFailedPrecondition,
                     "cannot delete a running process: kill it and wait for it first");
  }
  v2::DeleteResponse response;
  response.set_pid(HostPid());
  response.set_exit_status(process.exit_status);
  *response.mutable_exited_at() = process.exited_at;

  std::vector<std::thread> waiters;
  std::vector<std::unique_ptr<ProcessStdio>> ios;
  auto take = [&](Process& p) {
    if (p.waiter.joinable()) waiters.push_back(std::move(p.waiter));
    if (p.io) ios.push_back(std::move(p.io));
  };
  if (!request.exec_id().empty()) {
    take(process);
    auto owned = std::move(container.execs[request.exec_id()]);
    container.execs.erase(request.exec_id());
    lock.unlock();
    for (auto& t : waiters) t.join();
    return response;
  }
  try {
    agent_->RemoveContainer(request.id());
    // Unmounted in the guest: its drive slot can take the next container's rootfs.
    if (containers_.size() > 1) DetachRootfs(request.id());
  } catch (const shim::SandboxError&) {
    // The VM is stopped below when this was its last container, which removes it anyway.
  }
  // The share's mounts go now whatever the agent said: lazily, so a guest
  // that still holds files there keeps only its open files, not the mounts.
  if (share_) share_->RemoveContainer(request.id());
  take(container.init);
  for (auto& [id, exec] : container.execs) take(*exec);
  auto owned = std::move(containers_[request.id()]);
  containers_.erase(request.id());
  lock.unlock();
  for (auto& t : waiters) t.join();
  ios.clear();
  lock.lock();
  if (containers_.empty()) {
    StopVmLocked();
  } else if (vm_) {
    try {  // the deleted container's limit no longer counts
      ApplyMemoryPlanLocked(PlanMemoryLocked("", {}, boot_mib_));
    } catch (const std::exception& e) {
      if (options_.log) options_.log->warn("balloon not resized after deleting {}: {}", request.id(), e.what());
    }
  }
  return response;
}

v2::StateResponse VmSandbox::State(const v2::StateRequest& request) {
  std::lock_guard lock(mu_);
  Container& container = FindContainer(request.id());
  Process& process = FindProcess(request.id(), request.exec_id());
  v2::StateResponse response;
  response.set_id(request.id());
  response.set_bundle(container.bundle);
  response.set_pid(HostPid());
  response.set_status(ToStatus(static_cast<int>(process.phase)));
  response.set_stdin(process.stdio.stdin_path);
  response.set_stdout(process.stdio.stdout_path);
  response.set_stderr(process.stdio.stderr_path);
  response.set_terminal(process.stdio.terminal);
  response.set_exit_status(process.exit_status);
  *response.mutable_exited_at() = process.exited_at;
  response.set_exec_id(request.exec_id());
  return response;
}

v2::PidsResponse VmSandbox::Pids(const v2::PidsRequest& request) {
  std::lock_guard lock(mu_);
  FindContainer(request.id());
  return Translate("pids", [&] {
    const shim::agentpb::ListProcessesResponse list = agent_->ListProcesses(request.id());
    v2::PidsResponse response;
    for (const auto& p : list.processes()) response.add_processes()->set_pid(p.pid());
    return response;
  });
}

void VmSandbox::Pause(const v2::PauseRequest& request) {
  std::lock_guard lock(mu_);
  Process& process = FindProcess(request.id(), "");
  Translate("pause", [&] { agent_->PauseContainer(request.id()); });
  if (process.phase == Phase::kRunning) process.phase = Phase::kPaused;
}

void VmSandbox::Resume(const v2::ResumeRequest& request) {
  std::lock_guard lock(mu_);
  Process& process = FindProcess(request.id(), "");
  Translate("resume", [&] { agent_->ResumeContainer(request.id()); });
  if (process.phase == Phase::kPaused) process.phase = Phase::kRunning;
}

void VmSandbox::Kill(const v2::KillRequest& request) {
  std::lock_guard lock(mu_);
  Process& process = FindProcess(request.id(), request.exec_id());
  if (process.phase == Phase::kStopped) {
    throw TtrpcError(Code::kNotFound, "process already finished");
  }
  Translate("kill", [&] {
    agent_->SignalProcess(request.id(), request.exec_id(), static_cast<int>(request.signal()),
                          request.all());
  });
}

void VmSandbox::Exec(const v2::ExecProcessRequest& request) {
  std::lock_guard lock(mu_);
  Container& container = FindContainer(request.id());
  if (container.execs.count(request.exec_id()) != 0) {
    throw TtrpcError(Code::kAlreadyExists, "exec " + request.exec_id() + " already exists");
  }
  if (container.init.phase != Phase::kRunning) {
    throw TtrpcError(Code::kFailedPrecondition,
                     "container " + request.id() + " is not running: start it before exec");
  }
  auto exec = std::make_unique<Process>();
  exec->exec_id = request.exec_id();
  // containerd marshals the OCI process with typeurl, whose value is its JSON.
  exec->process_json = request.spec().value();
  exec->stdio = {request.stdin(), request.stdout(), request.stderr(), request.terminal()};
  container.execs.emplace(request.exec_id(), std::move(exec));
}

void VmSandbox::ResizePty(const v2::ResizePtyRequest& request) {
  std::lock_guard lock(mu_);
  FindProcess(request.id(), request.exec_id());
  Translate("resize pty", [&] {
    agent_->TtyWinResize(request.id(), request.exec_id(), request.height(), request.width());
  });
}

void VmSandbox::CloseIO(const v2::CloseIORequest& request) {
  ProcessStdio* io = nullptr;
  {
    std::lock_guard lock(mu_);
    io = FindProcess(request.id(), request.exec_id()).io.get();
  }
  if (request.stdin() && io) io->CloseStdin();
}

PodMemoryPlan VmSandbox::PlanMemoryLocked(const std::string& changed_id, const ContainerMemory& changed,
                                          unsigned boot_mib) const {
  std::map<std::string, ContainerMemory> pod;
  for (const auto& [id, c] : containers_) pod[id] = c->memory;
  if (!changed_id.empty()) pod[changed_id] = changed;
  try {
    return PlanPodMemory(boot_mib, pod);
  } catch (const PodMemoryError& e) {
    throw TtrpcError(Code::kFailedPrecondition, e.what());
  }
}

void VmSandbox::ApplyMemoryPlanLocked(const PodMemoryPlan& plan) {
  if (!vm_ || plan.balloon_mib == balloon_mib_) return;
  vm_->api().Patch("/balloon", {{"amount_mib", plan.balloon_mib}});
  if (options_.log) {
    options_.log->info("pod memory target {} MiB of {} MiB booted: balloon {} -> {} MiB", plan.target_mib, boot_mib_,
                       balloon_mib_, plan.balloon_mib);
  }
  balloon_mib_ = plan.balloon_mib;
}

void VmSandbox::Update(const v2::UpdateTaskRequest& request) {
  std::lock_guard lock(mu_);
  Container& container = FindContainer(request.id());
  // containerd marshals LinuxResources with typeurl, whose value is its JSON.
  const std::string& resources_json = request.resources().value();
  const nlohmann::json resources = nlohmann::json::parse(resources_json, nullptr, false);
  ContainerMemory memory = container.memory;
  if (NamesMemoryLimit(resources)) {  // an update of CPU only keeps the memory limit
    try {
      memory.limit = MemoryLimitOf(resources);
    } catch (const PodMemoryError& e) {
      throw TtrpcError(Code::kInvalidArgument, std::string("update: ") + e.what());
    }
  }
  const PodMemoryPlan plan = PlanMemoryLocked(request.id(), memory, boot_mib_);
  // The guest's memory only shrinks under a container whose limit already
  // did, and grows before a limit does.
  const bool grows = plan.balloon_mib < balloon_mib_;
  Translate("update", [&] {
    if (grows) ApplyMemoryPlanLocked(plan);
    agent_->UpdateContainer(request.id(), resources_json);
    if (!grows) ApplyMemoryPlanLocked(plan);
  });
  container.memory = memory;
}

v2::WaitResponse VmSandbox::Wait(const v2::WaitRequest& request, const ttrpc::CallContext& call) {
  std::unique_lock lock(mu_);
  Process* process = &FindProcess(request.id(), request.exec_id());
  while (process->phase != Phase::kStopped) {
    if (call.Cancelled()) throw TtrpcError(Code::kCancelled, "wait cancelled");
    exited_.wait_for(lock, std::chrono::milliseconds(200));
    process = &FindProcess(request.id(), request.exec_id());  // it may have been deleted
  }
  v2::WaitResponse response;
  response.set_exit_status(process->exit_status);
  *response.mutable_exited_at() = process->exited_at;
  return response;
}

v2::StatsResponse VmSandbox::Stats(const v2::StatsRequest& request) {
  std::lock_guard lock(mu_);
  FindContainer(request.id());
  if (!agent_) throw TtrpcError(Code::kFailedPrecondition, "container " + request.id() + " has no running microVM");
  return Translate("stats", [&] {
    v2::StatsResponse response;
    *response.mutable_stats() = PackCgroupsV2Metrics(ToCgroupsV2Metrics(agent_->StatsContainer(request.id())));
    return response;
  });
}

std::unique_ptr<shim::AgentClient> VmSandbox::StopVmLocked() {
  bool destroyed = false;
  if (agent_) {
    try {
      agent_->DestroySandbox(/*shutdown_vm=*/true);
      destroyed = true;
    } catch (const shim::SandboxError&) {
    }
  }
  const auto stopping = std::chrono::steady_clock::now();
  if (vm_) {
    // Once the agent has acknowledged DestroySandbox, its containers and mounts
    // are gone and the guest holds nothing worth a clean power-off (the rootfs
    // disk is read-only, the writable layer lives in guest RAM); its own
    // shutdown (gRPC drain, sync, reboot) took ~2.5 s of every nested
    // `ctr run --rm`, so the VMM is stopped at once. Without that
    // acknowledgement the guest may still be going down by itself: wait a while.
    vm_->WaitForShutdown(destroyed ? std::chrono::milliseconds(0)
                                   : std::chrono::milliseconds(10000));
    LogPhase("microVM stopped", stopping);
  }
  vm_.reset();
  boot_mib_ = balloon_mib_ = 0;
  slots_.reset();
  share_.reset();  // after the VMM: it served it
  mode_ = RootfsMode::kErofs;
  network_.reset();  // after the VMM: it held the taps
  // Never remove through a mount: a container's snapshot or a hostPath
  // volume still mounted below the state directory would lose its files.
  if (const auto left = DetachMountsBelow(options_.state_dir); !left.empty()) {
    if (options_.log) options_.log->error("{} stays: {} is still mounted below it", options_.state_dir.string(), left.front().string());
    return std::move(agent_);
  }
  std::error_code ec;
  fs::remove_all(options_.state_dir, ec);
  // The caller decides when the client goes: waiters and stdio pumps may
  // still be inside calls on it (they fail now that the VM is gone).
  return std::move(agent_);
}

void VmSandbox::Shutdown() {
  std::vector<std::thread> waiters;
  std::vector<std::unique_ptr<Container>> containers;
  std::unique_ptr<shim::AgentClient> agent;  // destroyed last, after everything using it
  {
    std::lock_guard lock(mu_);
    agent = StopVmLocked();  // ends every process: their waiters see the VM go
    for (auto& [id, c] : containers_) {
      if (c->init.waiter.joinable()) waiters.push_back(std::move(c->init.waiter));
      for (auto& [eid, e] : c->execs) {
        if (e->waiter.joinable()) waiters.push_back(std::move(e->waiter));
      }
      containers.push_back(std::move(c));
    }
    containers_.clear();
  }
  for (auto& t : waiters) t.join();
  containers.clear();  // their stdio pumps, which hold references to the agent client
}

}  // namespace hull::vm_sandbox
