#include "sandbox/runtime_paths.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>

#include <cerrno>
#include <optional>
#include <vector>

#include "sandbox/sandbox_error.h"

namespace hull::shim {
namespace fs = std::filesystem;

std::string HostArch() {
  utsname u{};
  ::uname(&u);
  return u.machine;
}

RuntimePaths DiscoverRuntimePaths(const fs::path& self_in) {
  std::error_code ec;
  fs::path self = self_in.empty() ? fs::read_symlink("/proc/self/exe", ec) : self_in;
  const fs::path bin_dir = self.parent_path();
  const fs::path prefix = bin_dir.parent_path();
  const std::string arch = HostArch();

  const std::vector<fs::path> guest_dirs = {prefix / "guest" / arch,
                                            prefix / "share" / "hull" / arch};
  const char* kernel_name = arch == "aarch64" ? "Image" : "bzImage";

  auto first_existing = [&](const std::vector<fs::path>& candidates) {
    for (const auto& c : candidates) {
      if (fs::exists(c, ec)) return c;
    }
    return candidates.front();
  };

  RuntimePaths paths;
  paths.vmm_binary = bin_dir / "hull-vmm";
  paths.jailer_binary = bin_dir / "hull-jailer";
  const char* jailer = std::getenv("HULL_JAILER");
  paths.confinement = ConfinementFrom(::geteuid(), jailer, std::getenv("HULL_VMM_SECCOMP"),
                                      std::getenv("HULL_JAILER_UID"));
  if (paths.confinement.jail && (jailer == nullptr || *jailer == '\0') && !fs::exists(paths.jailer_binary, ec)) {
    // A partial copy of the programs (a hand-made test tree): say so, run
    // unconfined. An installed prefix always has the jailer.
    paths.confinement.jail = false;
    paths.confinement.note = "hull-jailer not found at " + paths.jailer_binary.string() +
                             ": hull-vmm runs unconfined (install it beside hull-vmm; HULL_JAILER=on makes this an error)";
  }
  std::vector<fs::path> kernels, initrds;
  for (const auto& d : guest_dirs) {
    kernels.push_back(d / kernel_name);
    initrds.push_back(d / "initramfs.cpio.lz4");
    initrds.push_back(d / "initramfs.cpio.gz");
  }
  paths.kernel = first_existing(kernels);
  paths.initrd = first_existing(initrds);
  return paths;
}

namespace {

// nullopt: unset or empty; true/false for on/off spellings; throws otherwise.
std::optional<bool> Switch(const char* name, const char* value) {
  if (value == nullptr || *value == '\0') return std::nullopt;
  const std::string v = value;
  if (v == "on" || v == "1" || v == "true" || v == "yes") return true;
  if (v == "off" || v == "0" || v == "false" || v == "no") return false;
  throw SandboxError(std::string(name) + "='" + v + "' is not understood: use on or off");
}

}  // namespace

VmmConfinement ConfinementFrom(unsigned euid, const char* jailer, const char* seccomp, const char* fixed_uid) {
  VmmConfinement c;
  const bool root = euid == 0;
  c.jail = Switch("HULL_JAILER", jailer).value_or(root);
  c.seccomp = Switch("HULL_VMM_SECCOMP", seccomp).value_or(true);
  if (c.jail && !root) {
    throw SandboxError("HULL_JAILER=on needs root (the jailer mounts, mknods and switches uid); "
                       "run as root or set HULL_JAILER=off");
  }
  if (fixed_uid != nullptr && *fixed_uid != '\0') {
    char* end = nullptr;
    errno = 0;
    const unsigned long uid = std::strtoul(fixed_uid, &end, 10);
    if (errno != 0 || *end != '\0' || uid == 0 || uid >= 0xffffffffUL || fixed_uid[0] == '-') {
      throw SandboxError(std::string("HULL_JAILER_UID='") + fixed_uid +
                         "' is not an unprivileged uid (a number from 1 to 4294967294)");
    }
    c.fixed_uid = static_cast<long>(uid);
  }
  return c;
}

std::chrono::seconds StartTimeoutFrom(const char* value, std::chrono::seconds fallback) {
  if (value == nullptr || *value == '\0') return fallback;
  char* end = nullptr;
  errno = 0;
  const long seconds = std::strtol(value, &end, 10);
  if (errno != 0 || *end != '\0' || value[0] < '0' || value[0] > '9' || seconds < 1 || seconds > 3600) {
    throw SandboxError(std::string("HULL_START_TIMEOUT='") + value +
                       "' is not a timeout: give whole seconds from 1 to 3600 (or unset it for the default of " +
                       std::to_string(fallback.count()) + ")");
  }
  return std::chrono::seconds(seconds);
}

}  // namespace hull::shim
