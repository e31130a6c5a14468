#include "sandbox/runtime_paths.h"

#include <sys/utsname.h>

#include <vector>

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

}  // namespace hull::shim
