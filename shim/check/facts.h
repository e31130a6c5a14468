// What `hull check` learns about the host, separated from the verdict so the verdict logic
// can be tested with injected facts (no /dev/kvm needed).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace hull::check {

enum class Arch { kX86_64, kAarch64 };

const char* ArchName(Arch arch);

// A timed loop run at guest ring 0 (x86 real mode / arm64 EL1) in a tiny probe VM, against
// the same loop in this process. Hardware KVM runs both at about the same speed; kvm_pvm
// emulates every guest ring-0 instruction, which costs microseconds per iteration.
struct Ring0Probe {
  std::string error;  // empty when the probe ran
  double guest_ns_per_iteration = 0;
  double host_ns_per_iteration = 0;
};

struct KvmFacts {
  bool exists = false;             // the path exists
  bool is_char_device = false;
  int open_errno = -1;             // 0 when open(O_RDWR) worked; -1 when not attempted
  int api_version = -1;            // KVM_GET_API_VERSION; -1 when unknown
  std::vector<std::string> missing_capabilities;  // required ones KVM_CHECK_EXTENSION denied
  std::string create_vm_error;     // KVM_CREATE_VM (or the vGIC test) failed: why
  std::optional<bool> vgic_v3;     // arm64: KVM_DEV_TYPE_ARM_VGIC_V3 can be created
  std::optional<Ring0Probe> ring0;
};

struct Facts {
  Arch arch = Arch::kX86_64;
  std::string kvm_path = "/dev/kvm";
  KvmFacts kvm;
  bool kvm_pvm_loaded = false;         // /sys/module/kvm_pvm exists
  std::set<std::string> cpu_flags;     // /proc/cpuinfo flags (x86) or Features (arm64)
  std::set<std::string> kvm_modules;   // kvm, kvm_intel, kvm_amd, kvm_pvm... as loaded
  int vsock_errno = -1;                // socket(AF_VSOCK): 0 when it worked
  int tun_errno = -1;                  // open(/dev/net/tun): 0 when it worked
  bool cap_net_admin = false;          // effective CAP_NET_ADMIN
};

}  // namespace hull::check
