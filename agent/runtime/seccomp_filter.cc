#include "runtime/seccomp_filter.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "runtime/error.h"
#include "runtime/unique_fd.h"

namespace hull::runtime {
namespace {

uint32_t action_of(oci::SeccompAction a, std::optional<uint32_t> errno_ret) {
  switch (a) {
    case oci::SeccompAction::kill_thread:
      return SCMP_ACT_KILL_THREAD;
    case oci::SeccompAction::kill_process:
      return SCMP_ACT_KILL_PROCESS;
    case oci::SeccompAction::trap:
      return SCMP_ACT_TRAP;
    case oci::SeccompAction::errno_ret:
      return SCMP_ACT_ERRNO(errno_ret.value_or(EPERM));
    case oci::SeccompAction::trace:
      return SCMP_ACT_TRACE(errno_ret.value_or(EPERM));
    case oci::SeccompAction::allow:
      return SCMP_ACT_ALLOW;
    case oci::SeccompAction::log:
      return SCMP_ACT_LOG;
    case oci::SeccompAction::notify:
      break;
  }
  throw RuntimeError(ErrorKind::invalid_argument, "linux.seccomp: unsupported action");
}

scmp_compare compare_of(const std::string& op) {
  if (op == "SCMP_CMP_NE") return SCMP_CMP_NE;
  if (op == "SCMP_CMP_LT") return SCMP_CMP_LT;
  if (op == "SCMP_CMP_LE") return SCMP_CMP_LE;
  if (op == "SCMP_CMP_EQ") return SCMP_CMP_EQ;
  if (op == "SCMP_CMP_GE") return SCMP_CMP_GE;
  if (op == "SCMP_CMP_GT") return SCMP_CMP_GT;
  return SCMP_CMP_MASKED_EQ;
}

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

}  // namespace

int SeccompProgram::load() const {
  sock_fprog prog{static_cast<unsigned short>(instructions.size()),
                  const_cast<sock_filter*>(instructions.data())};
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return errno;
  return 0;
}

SeccompProgram compile_seccomp(const oci::Seccomp& profile) {
  std::unique_ptr<void, CtxDeleter> ctx(
      seccomp_init(action_of(profile.default_action, profile.default_errno_ret)));
  if (!ctx) throw RuntimeError(ErrorKind::internal, "seccomp_init failed");
  // The exported program must not switch no_new_privs on by itself: the spec decides.
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  for (size_t i = 0; i < profile.architectures.size(); ++i) {
    std::string name = profile.architectures[i];
    if (name.rfind("SCMP_ARCH_", 0) == 0) name = name.substr(10);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    uint32_t arch = seccomp_arch_resolve_name(name.c_str());
    if (arch == 0)
      throw RuntimeError(ErrorKind::invalid_argument,
                         "linux.seccomp.architectures[" + std::to_string(i) +
                             "]: unknown architecture \"" + profile.architectures[i] + "\"");
    int rc = seccomp_arch_add(ctx.get(), arch);
    if (rc != 0 && rc != -EEXIST)
      throw RuntimeError(ErrorKind::invalid_argument,
                         "linux.seccomp.architectures[" + std::to_string(i) + "]: cannot add");
  }
  for (size_t i = 0; i < profile.syscalls.size(); ++i) {
    const oci::SeccompRule& rule = profile.syscalls[i];
    uint32_t action = action_of(rule.action, rule.errno_ret);
    if (action == action_of(profile.default_action, profile.default_errno_ret))
      continue;  // libseccomp rejects no-op rules
    std::vector<scmp_arg_cmp> args;
    for (const auto& a : rule.args)
      args.push_back(scmp_arg_cmp{a.index, compare_of(a.op), a.value, a.value_two});
    for (const std::string& name : rule.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) continue;  // unknown on this kernel/arch: skipped, as runc does
      int rc = seccomp_rule_add_array(ctx.get(), action, nr, static_cast<unsigned>(args.size()),
                                      args.data());
      if (rc != 0)
        throw RuntimeError(ErrorKind::invalid_argument,
                           "linux.seccomp.syscalls[" + std::to_string(i) +
                               "]: libseccomp rejected the rule for " + name + " (error " +
                               std::to_string(-rc) + ")");
    }
  }
  UniqueFd mem(::memfd_create("hull-seccomp", MFD_CLOEXEC));
  if (!mem) throw_errno("memfd_create for the seccomp program");
  int rc = seccomp_export_bpf(ctx.get(), mem.get());
  if (rc != 0)
    throw RuntimeError(ErrorKind::internal,
                       "seccomp_export_bpf failed (error " + std::to_string(-rc) + ")");
  off_t size = ::lseek(mem.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0)
    throw RuntimeError(ErrorKind::internal, "seccomp_export_bpf wrote an unexpected size");
  SeccompProgram prog;
  prog.instructions.resize(static_cast<size_t>(size) / sizeof(sock_filter));
  if (::pread(mem.get(), prog.instructions.data(), static_cast<size_t>(size), 0) != size)
    throw_errno("reading back the seccomp program");
  return prog;
}

}  // namespace hull::runtime
