#include "check/verdict.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace hull::check {
namespace {

// Facts of a host where everything works: hardware KVM on an Intel CPU.
Facts Healthy(Arch arch = Arch::kX86_64) {
  Facts f;
  f.arch = arch;
  f.cpu_flags = {"fpu", arch == Arch::kX86_64 ? "vmx" : "asimd"};
  f.kvm.exists = true;
  f.kvm.is_char_device = true;
  f.kvm.open_errno = 0;
  f.kvm.api_version = 12;
  if (arch == Arch::kAarch64) f.kvm.vgic_v3 = true;
  f.kvm.ring0 = Ring0Probe{"", 0.4, 0.3};
  f.vsock_errno = 0;
  f.tun_errno = 0;
  f.cap_net_admin = true;
  return f;
}

const CheckResult& Find(const Report& r, const std::string& id) {
  for (const auto& c : r.checks) {
    if (c.id == id) return c;
  }
  throw std::runtime_error("no check " + id);
}

TEST(CheckVerdict, HealthyHostIsUsable) {
  for (Arch arch : {Arch::kX86_64, Arch::kAarch64}) {
    const Report r = Evaluate(Healthy(arch));
    EXPECT_TRUE(r.kvm_usable) << ArchName(arch);
    for (const auto& c : r.checks) {
      EXPECT_EQ(c.status, Status::kOk) << c.id << ": " << c.detail;
      EXPECT_TRUE(c.fix.empty()) << c.id;
    }
  }
}

TEST(CheckVerdict, MissingDeviceNamesTheModuleToLoad) {
  Facts f = Healthy();
  f.kvm = {};
  const Report r = Evaluate(f);
  EXPECT_FALSE(r.kvm_usable);
  EXPECT_EQ(Find(r, "kvm.device").status, Status::kFail);
  EXPECT_NE(Find(r, "kvm.device").fix.find("modprobe kvm_intel"), std::string::npos);
  for (const char* later : {"kvm.open", "kvm.api", "kvm.capabilities", "kvm.vm", "kvm.hardware"}) {
    EXPECT_EQ(Find(r, later).status, Status::kSkipped) << later;
  }
  f.cpu_flags = {"svm"};
  EXPECT_NE(Find(Evaluate(f), "kvm.device").fix.find("modprobe kvm_amd"), std::string::npos);
  f.cpu_flags = {"fpu"};
  EXPECT_NE(Find(Evaluate(f), "kvm.device").fix.find("tools/nested-run"), std::string::npos);
}

TEST(CheckVerdict, NotACharacterDevice) {
  Facts f = Healthy();
  f.kvm.is_char_device = false;
  f.kvm.open_errno = -1;
  const Report r = Evaluate(f);
  EXPECT_FALSE(r.kvm_usable);
  EXPECT_NE(Find(r, "kvm.device").detail.find("not a character device"), std::string::npos);
}

TEST(CheckVerdict, PermissionDeniedSaysJoinGroupKvm) {
  Facts f = Healthy();
  f.kvm.open_errno = EACCES;
  f.kvm.api_version = -1;
  f.kvm.ring0.reset();
  const Report r = Evaluate(f);
  EXPECT_FALSE(r.kvm_usable);
  EXPECT_EQ(Find(r, "kvm.open").status, Status::kFail);
  EXPECT_NE(Find(r, "kvm.open").fix.find("group kvm"), std::string::npos);
  EXPECT_EQ(Find(r, "kvm.api").status, Status::kSkipped);
}

TEST(CheckVerdict, WrongApiVersion) {
  Facts f = Healthy();
  f.kvm.api_version = 11;
  const Report r = Evaluate(f);
  EXPECT_FALSE(r.kvm_usable);
  EXPECT_EQ(Find(r, "kvm.api").status, Status::kFail);
  EXPECT_NE(Find(r, "kvm.api").detail.find("11"), std::string::npos);
}

TEST(CheckVerdict, MissingCapabilitiesAreNamed) {
  Facts f = Healthy();
  f.kvm.missing_capabilities = {"KVM_CAP_IRQFD", "KVM_CAP_PIT2"};
  const Report r = Evaluate(f);
  EXPECT_FALSE(r.kvm_usable);
  EXPECT_EQ(Find(r, "kvm.capabilities").detail, "KVM lacks KVM_CAP_IRQFD KVM_CAP_PIT2");
}

TEST(CheckVerdict, CreateVmFailure) {
  Facts f = Healthy();
  f.kvm.create_vm_error = "KVM_CREATE_VM: Device or resource busy";
  f.kvm.ring0.reset();
  const Report r = Evaluate(f);
  EXPECT_FALSE(r.kvm_usable);
  EXPECT_EQ(Find(r, "kvm.vm").status, Status::kFail);
  EXPECT_EQ(Find(r, "kvm.hardware").status, Status::kSkipped);
}

TEST(CheckVerdict, Arm64NeedsVgicV3) {
  Facts f = Healthy(Arch::kAarch64);
  f.kvm.vgic_v3 = false;
  const Report r = Evaluate(f);
  EXPECT_FALSE(r.kvm_usable);
  EXPECT_NE(Find(r, "kvm.vm").detail.find("GICv3"), std::string::npos);
}

TEST(CheckVerdict, SlowRing0LoopMeansEmulation) {
  Facts f = Healthy();
  f.kvm.ring0 = Ring0Probe{"", 1230, 0.27};  // measured on a kvm_pvm host
  const Report r = Evaluate(f);
  EXPECT_FALSE(r.kvm_usable);
  EXPECT_EQ(Find(r, "kvm.hardware").status, Status::kFail);
  EXPECT_NE(Find(r, "kvm.hardware").detail.find("emulated"), std::string::npos);
  EXPECT_NE(Find(r, "kvm.hardware").fix.find("tools/nested-run"), std::string::npos);
}

TEST(CheckVerdict, RatioThresholdIsExclusive) {
  Facts f = Healthy();
  f.kvm.ring0 = Ring0Probe{"", kEmulationRatio * 1.0, 1.0};
  EXPECT_TRUE(Evaluate(f).kvm_usable);
  f.kvm.ring0 = Ring0Probe{"", kEmulationRatio * 1.01, 1.0};
  EXPECT_FALSE(Evaluate(f).kvm_usable);
}

TEST(CheckVerdict, NestedTcgL1TimingsAreHardware) {
  Facts f = Healthy();
  f.cpu_flags = {"svm"};
  f.kvm.ring0 = Ring0Probe{"", 0, 8.6};  // inside tools/nested-run: too fast to time
  const Report r = Evaluate(f);
  EXPECT_TRUE(r.kvm_usable);
  EXPECT_NE(Find(r, "kvm.hardware").detail.find("too fast to time"), std::string::npos);
}

TEST(CheckVerdict, PvmWithoutVmxOrSvmFailsEvenWhenTheProbeLooksFine) {
  Facts f = Healthy();
  f.cpu_flags = {"fpu", "sse2"};
  f.kvm_pvm_loaded = true;
  const Report r = Evaluate(f);
  EXPECT_FALSE(r.kvm_usable);
  EXPECT_NE(Find(r, "kvm.hardware").detail.find("kvm_pvm"), std::string::npos);
  f.kvm.ring0.reset();  // --no-probe
  EXPECT_FALSE(Evaluate(f).kvm_usable);
}

TEST(CheckVerdict, PvmBesideHardwareVirtualizationIsJudgedByTheProbe) {
  Facts f = Healthy();
  f.kvm_pvm_loaded = true;  // vmx present: /dev/kvm may well be kvm_intel
  EXPECT_TRUE(Evaluate(f).kvm_usable);
}

TEST(CheckVerdict, ProbeErrorFails) {
  Facts f = Healthy();
  f.kvm.ring0 = Ring0Probe{"unexpected KVM_EXIT_INTERNAL_ERROR (suberror 1)", 0, 0};
  const Report r = Evaluate(f);
  EXPECT_FALSE(r.kvm_usable);
  EXPECT_NE(Find(r, "kvm.hardware").detail.find("KVM_EXIT_INTERNAL_ERROR"), std::string::npos);
}

TEST(CheckVerdict, OptionalChecksDoNotDecideUsability) {
  Facts f = Healthy();
  f.vsock_errno = EAFNOSUPPORT;
  f.tun_errno = ENOENT;
  const Report r = Evaluate(f);
  EXPECT_TRUE(r.kvm_usable);
  EXPECT_EQ(Find(r, "vsock").status, Status::kFail);
  EXPECT_FALSE(Find(r, "vsock").required);
  EXPECT_EQ(Find(r, "tap").fix, "sudo modprobe tun");
  f.tun_errno = 0;
  f.cap_net_admin = false;
  EXPECT_NE(Find(Evaluate(f), "tap").detail.find("CAP_NET_ADMIN"), std::string::npos);
}

}  // namespace
}  // namespace hull::check
