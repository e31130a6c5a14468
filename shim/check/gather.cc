#include "check/gather.h"

#include <fcntl.h>
#include <sys/capability.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "check/cpuinfo.h"
#include "check/kvm_probe.h"
#include "check/unique_fd.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

namespace hull::check {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

int ErrnoOf(int fd) { return fd >= 0 ? 0 : errno; }

bool HasEffectiveCapability(cap_value_t cap) {
  cap_t caps = cap_get_proc();
  if (caps == nullptr) return false;
  cap_flag_value_t value = CAP_CLEAR;
  const bool ok = cap_get_flag(caps, cap, CAP_EFFECTIVE, &value) == 0;
  cap_free(caps);
  return ok && value == CAP_SET;
}

}  // namespace

Facts Gather(const GatherOptions& options) {
  Facts facts;
  facts.arch = BuiltArch();
  facts.kvm_path = options.kvm_path;
  facts.cpu_flags = ParseCpuFlags(ReadFile(options.cpuinfo_path));
  for (const char* module : {"kvm", "kvm_intel", "kvm_amd", "kvm_pvm"}) {
    if (IsDirectory(options.sys_module_dir + "/" + module)) facts.kvm_modules.insert(module);
  }
  facts.kvm_pvm_loaded = facts.kvm_modules.count("kvm_pvm") > 0;
  facts.kvm = ProbeKvm(options.kvm_path, options.run_ring0_probe);
  {
    UniqueFd sock(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
    facts.vsock_errno = ErrnoOf(sock.get());
  }
  {
    UniqueFd tun(::open(options.tun_path.c_str(), O_RDWR | O_CLOEXEC));
    facts.tun_errno = ErrnoOf(tun.get());
  }
  facts.cap_net_admin = HasEffectiveCapability(CAP_NET_ADMIN);
  return facts;
}

}  // namespace hull::check
