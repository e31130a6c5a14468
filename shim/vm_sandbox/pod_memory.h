// How big a pod's microVM should be while it runs: the memory the VM was
// booted with is its ceiling (a balloon can only give memory back, never add
// any: see docs/kubernetes.md for why a balloon and not memory hot-plug), and
// when every container of the pod has a memory limit the guest needs no more
// than those limits plus the guest's own overhead. The rest is inflated into
// the balloon, which hands it back to the host.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

namespace hull::vm_sandbox {

// A pod's memory cannot be planned (a limit the booted VM cannot hold, or a
// bad boot-memory annotation). The message says what to change.
class PodMemoryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The pod sandbox's annotation that sets the VM's boot memory in MiB (as
// Kata's io.katacontainers.config.hypervisor.default_memory); containerd's CRI
// passes it on when the runtime lists it in pod_annotations.
inline constexpr char kVmMemoryAnnotation[] = "io.hull.vm.memory_mib";
inline constexpr unsigned kMinVmMemoryMib = 64;
inline constexpr unsigned kMaxVmMemoryMib = 64 * 1024;

// What the guest needs besides its containers' limits: kernel and page
// descriptors, hull-agent (~8 MiB), and room for page cache. Also the
// RuntimeClass overhead's order of size (docs/kubernetes.md).
inline constexpr unsigned kGuestOverheadMib = 64;

// The boot memory `spec` (an OCI config.json) asks for with
// kVmMemoryAnnotation, else `default_mib`. Throws PodMemoryError for a value
// that is not a whole number of MiB in [kMinVmMemoryMib, kMaxVmMemoryMib].
unsigned BootMemoryMib(const nlohmann::json& spec, unsigned default_mib);

// The memory limit in an OCI linux.resources object (memory.limit, bytes);
// nullopt when it has none, or -1/0 (unlimited). Throws PodMemoryError for a
// limit that is not an integer.
std::optional<uint64_t> MemoryLimitOf(const nlohmann::json& resources);

// One container of the pod, as the plan sees it.
struct ContainerMemory {
  bool is_pod_sandbox = false;    // CRI's pause container: lives in the overhead
  std::optional<uint64_t> limit;  // bytes; nullopt: unlimited
};

struct PodMemoryPlan {
  unsigned target_mib = 0;   // memory the guest keeps
  unsigned balloon_mib = 0;  // boot memory minus target: inflated, back to the host
  bool bounded = false;      // false: some container is unlimited, the guest keeps everything
};

// Target = kGuestOverheadMib + the limits (each rounded up to a MiB) of the
// pod's containers, when every container except the pod sandbox has one;
// otherwise the whole boot memory (balloon 0). Throws PodMemoryError, naming
// the boot memory and how to raise it, when the target is above `boot_mib`.
PodMemoryPlan PlanPodMemory(unsigned boot_mib,
                            const std::map<std::string, ContainerMemory>& containers);

}  // namespace hull::vm_sandbox
