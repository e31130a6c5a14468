#include "check/verdict.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace hull::check {
namespace {

constexpr const char* kNestedRun =
    "run hull inside tools/nested-run (an L1 Linux under QEMU with nested KVM)";

std::string Errno(int err) { return std::strerror(err); }

std::string Format(const char* fmt, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, value);
  return buf;
}

bool HasX86Virtualization(const Facts& f) {
  return f.cpu_flags.count("vmx") > 0 || f.cpu_flags.count("svm") > 0;
}

std::string NoDeviceFix(const Facts& f) {
  if (f.arch == Arch::kAarch64) {
    return "KVM on arm64 needs Linux booted at EL2 (see `dmesg | grep -i kvm`); on a VM without "
           "nested virtualization, " + std::string(kNestedRun);
  }
  if (f.cpu_flags.count("vmx")) return "load KVM for Intel: sudo modprobe kvm_intel";
  if (f.cpu_flags.count("svm")) return "load KVM for AMD: sudo modprobe kvm_amd";
  return "this CPU offers no hardware virtualization (no vmx/svm in /proc/cpuinfo): enable VT-x/AMD-V "
         "in the firmware or nested virtualization for this VM, or " + std::string(kNestedRun);
}

CheckResult Skipped(std::string id, bool required, std::string why) {
  return {std::move(id), required, Status::kSkipped, std::move(why), ""};
}

CheckResult DeviceCheck(const Facts& f) {
  if (!f.kvm.exists) {
    return {"kvm.device", true, Status::kFail, f.kvm_path + " does not exist", NoDeviceFix(f)};
  }
  if (!f.kvm.is_char_device) {
    return {"kvm.device", true, Status::kFail, f.kvm_path + " exists but is not a character device",
            "remove it and load KVM again (" + NoDeviceFix(f) + ")"};
  }
  return {"kvm.device", true, Status::kOk, f.kvm_path + " is a character device", ""};
}

CheckResult OpenCheck(const Facts& f) {
  if (f.kvm.open_errno < 0) return Skipped("kvm.open", true, "not tried: no KVM device");
  if (f.kvm.open_errno == 0) return {"kvm.open", true, Status::kOk, f.kvm_path + " opens read-write", ""};
  const int err = f.kvm.open_errno;
  std::string fix;
  if (err == EACCES || err == EPERM) {
    fix = "add yourself to group kvm (sudo usermod -aG kvm $USER, then log in again) or run as root";
  } else if (err == ENXIO || err == ENODEV) {
    fix = "no KVM driver behind the device node: " + NoDeviceFix(f);
  } else {
    fix = "check `dmesg | grep -i kvm` for why KVM refuses to open";
  }
  return {"kvm.open", true, Status::kFail, "cannot open " + f.kvm_path + " read-write: " + Errno(err), fix};
}

CheckResult ApiCheck(const Facts& f) {
  if (f.kvm.open_errno != 0) return Skipped("kvm.api", true, "not tried: cannot open the KVM device");
  if (f.kvm.api_version == 12) return {"kvm.api", true, Status::kOk, "KVM API version 12", ""};
  return {"kvm.api", true, Status::kFail,
          "KVM_GET_API_VERSION returned " + std::to_string(f.kvm.api_version) + ", hull needs 12",
          "this is not a Linux KVM device (or a very old one): use a Linux >= 5.10 host or tools/nested-run"};
}

CheckResult CapabilityCheck(const Facts& f) {
  if (f.kvm.api_version != 12) return Skipped("kvm.capabilities", true, "not tried: no usable KVM API");
  if (f.kvm.missing_capabilities.empty()) {
    return {"kvm.capabilities", true, Status::kOk, "KVM offers every capability hull uses", ""};
  }
  std::string missing;
  for (const auto& cap : f.kvm.missing_capabilities) missing += (missing.empty() ? "" : " ") + cap;
  return {"kvm.capabilities", true, Status::kFail, "KVM lacks " + missing,
          "use a host kernel with a complete KVM (Linux >= 5.10), or " + std::string(kNestedRun)};
}

CheckResult VmCheck(const Facts& f) {
  if (f.kvm.api_version != 12) return Skipped("kvm.vm", true, "not tried: no usable KVM API");
  if (!f.kvm.create_vm_error.empty()) {
    return {"kvm.vm", true, Status::kFail, "cannot create a VM: " + f.kvm.create_vm_error,
            "another hypervisor may hold the virtualization extensions (VirtualBox, VMware): stop it; "
            "else see `dmesg | grep -i kvm`"};
  }
  if (f.arch == Arch::kAarch64 && f.kvm.vgic_v3 == false) {
    return {"kvm.vm", true, Status::kFail, "KVM cannot create a virtual GICv3 (KVM_DEV_TYPE_ARM_VGIC_V3)",
            "hull's arm64 guests need a GICv3 host; on GICv2-only hardware " + std::string(kNestedRun)};
  }
  return {"kvm.vm", true, Status::kOk,
          f.arch == Arch::kAarch64 ? "a VM with a vGICv3 can be created" : "a VM can be created", ""};
}

CheckResult HardwareCheck(const Facts& f) {
  if (f.kvm.api_version != 12 || !f.kvm.create_vm_error.empty()) {
    return Skipped("kvm.hardware", true, "not tried: no VM to probe");
  }
  const std::string fix = "this /dev/kvm cannot run an ordinary Linux guest at a usable speed; " +
                          std::string(kNestedRun);
  const bool pvm_only = f.kvm_pvm_loaded && f.arch == Arch::kX86_64 && !HasX86Virtualization(f);
  const std::string pvm_note =
      pvm_only ? "; /dev/kvm comes from kvm_pvm (software nested virtualization for PVM guest kernels) and the "
                 "CPU has no vmx/svm"
               : "";
  if (!f.kvm.ring0) {
    if (pvm_only) return {"kvm.hardware", true, Status::kFail, "not probed" + pvm_note, fix};
    return {"kvm.hardware", true, Status::kOk, "not probed (--no-probe); kvm_pvm is not loaded", ""};
  }
  const Ring0Probe& p = *f.kvm.ring0;
  if (!p.error.empty()) {
    return {"kvm.hardware", true, Status::kFail, "the ring-0 probe VM failed: " + p.error + pvm_note, fix};
  }
  const double ratio = p.host_ns_per_iteration > 0 ? p.guest_ns_per_iteration / p.host_ns_per_iteration : 0;
  const std::string timing = (p.guest_ns_per_iteration > 0.001
                                  ? Format("guest ring-0 loop %.3g ns/iteration", p.guest_ns_per_iteration)
                                  : std::string("guest ring-0 loop too fast to time")) +
                             Format(" vs %.3g ns in this process", p.host_ns_per_iteration) +
                             (ratio > 0 ? Format(" (%.3gx)", ratio) : std::string());
  if (p.host_ns_per_iteration <= 0 || ratio > kEmulationRatio) {
    return {"kvm.hardware", true, Status::kFail, timing + ": guest ring-0 code is emulated" + pvm_note, fix};
  }
  if (pvm_only) return {"kvm.hardware", true, Status::kFail, timing + pvm_note, fix};
  return {"kvm.hardware", true, Status::kOk, timing + ": hardware virtualization", ""};
}

CheckResult VsockCheck(const Facts& f) {
  if (f.vsock_errno == 0) return {"vsock", false, Status::kOk, "AF_VSOCK sockets can be created", ""};
  return {"vsock", false, Status::kFail,
          "socket(AF_VSOCK) failed: " + Errno(f.vsock_errno) +
              " (hull itself does not need it: its vsock is the VMM's unix-socket bridge)",
          "for tools that use host AF_VSOCK: sudo modprobe vsock"};
}

CheckResult TapCheck(const Facts& f) {
  if (f.tun_errno != 0) {
    const int err = f.tun_errno;
    return {"tap", false, Status::kFail, "cannot open /dev/net/tun: " + Errno(err) + " (container networking needs taps)",
            err == ENOENT || err == ENODEV || err == ENXIO ? "sudo modprobe tun"
                                                           : "run as root (taps need CAP_NET_ADMIN)"};
  }
  if (!f.cap_net_admin) {
    return {"tap", false, Status::kFail, "/dev/net/tun opens, but CAP_NET_ADMIN is missing (container networking needs taps)",
            "run as root (or with CAP_NET_ADMIN)"};
  }
  return {"tap", false, Status::kOk, "/dev/net/tun opens and CAP_NET_ADMIN is held", ""};
}

}  // namespace

const char* ArchName(Arch arch) { return arch == Arch::kAarch64 ? "aarch64" : "x86_64"; }

const char* StatusName(Status status) {
  switch (status) {
    case Status::kOk: return "ok";
    case Status::kFail: return "FAIL";
    case Status::kSkipped: return "skip";
  }
  return "?";
}

Report Evaluate(const Facts& f) {
  Report report{f.arch, true, {}};
  report.checks = {DeviceCheck(f), OpenCheck(f),     ApiCheck(f),   CapabilityCheck(f),
                   VmCheck(f),     HardwareCheck(f), VsockCheck(f), TapCheck(f)};
  for (const auto& c : report.checks) {
    if (c.required && c.status != Status::kOk) report.kvm_usable = false;
  }
  return report;
}

}  // namespace hull::check
