#include "vm_sandbox/pod_memory.h"

#include <algorithm>
#include <charconv>

namespace hull::vm_sandbox {
namespace {

constexpr uint64_t kMib = uint64_t{1} << 20;

std::string HowToRaise(unsigned needed_mib) {
  return "boot the pod with the annotation " + std::string(kVmMemoryAnnotation) + "=\"" +
         std::to_string(needed_mib) +
         "\" on the pod (containerd: pod_annotations = [\"io.hull.*\"] in the hull runtime's "
         "section)";
}

}  // namespace

unsigned BootMemoryMib(const nlohmann::json& spec, unsigned default_mib) {
  const nlohmann::json* annotations = nullptr;
  if (spec.is_object()) {
    auto it = spec.find("annotations");
    if (it != spec.end() && it->is_object()) annotations = &*it;
  }
  if (!annotations) return default_mib;
  auto value = annotations->find(kVmMemoryAnnotation);
  if (value == annotations->end()) return default_mib;
  const std::string text = value->is_string() ? value->get<std::string>() : value->dump();
  unsigned mib = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), mib);
  if (ec != std::errc() || end != text.data() + text.size() || mib < kMinVmMemoryMib ||
      mib > kMaxVmMemoryMib) {
    throw PodMemoryError("annotation " + std::string(kVmMemoryAnnotation) + "=\"" + text +
                         "\" is not a whole number of MiB between " +
                         std::to_string(kMinVmMemoryMib) + " and " +
                         std::to_string(kMaxVmMemoryMib));
  }
  return mib;
}

std::optional<uint64_t> MemoryLimitOf(const nlohmann::json& resources) {
  if (!resources.is_object()) return std::nullopt;
  auto memory = resources.find("memory");
  if (memory == resources.end() || !memory->is_object()) return std::nullopt;
  auto limit = memory->find("limit");
  if (limit == memory->end() || limit->is_null()) return std::nullopt;
  if (!limit->is_number_integer()) {
    throw PodMemoryError("linux.resources.memory.limit " + limit->dump() +
                         " is not an integer number of bytes");
  }
  const int64_t bytes = limit->get<int64_t>();
  if (bytes <= 0) return std::nullopt;  // -1 (and 0, as runc reads it): no limit
  return static_cast<uint64_t>(bytes);
}

PodMemoryPlan PlanPodMemory(unsigned boot_mib,
                            const std::map<std::string, ContainerMemory>& containers) {
  PodMemoryPlan plan{boot_mib, 0, false};
  uint64_t limits_mib = 0;
  bool any_limited = false;
  for (const auto& [id, c] : containers) {
    if (c.limit) {
      // Capped so that no sum of limits wraps around (any cap is far above a VM).
      const uint64_t mib = *c.limit / kMib + (*c.limit % kMib != 0);
      limits_mib += std::min<uint64_t>(mib, uint64_t{1} << 40);
      any_limited = true;
    } else if (!c.is_pod_sandbox) {
      return plan;  // an unlimited container may use all the VM has
    }
  }
  if (!any_limited) return plan;
  const uint64_t target = kGuestOverheadMib + limits_mib;
  if (target > boot_mib) {
    throw PodMemoryError("the pod's memory limits (" + std::to_string(limits_mib) +
                         " MiB) plus the guest's " + std::to_string(kGuestOverheadMib) +
                         " MiB overhead need " + std::to_string(target) +
                         " MiB, but its microVM was booted with " + std::to_string(boot_mib) +
                         " MiB and can only shrink: " + HowToRaise(static_cast<unsigned>(target)));
  }
  plan.target_mib = static_cast<unsigned>(target);
  plan.balloon_mib = boot_mib - plan.target_mib;
  plan.bounded = true;
  return plan;
}

}  // namespace hull::vm_sandbox
