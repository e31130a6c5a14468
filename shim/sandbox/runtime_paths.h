// Where hull's programs and guest artifacts live. Found relative to the
// running binary, so both layouts work without configuration:
//   build tree:  build/bin/hull        -> build/guest/<arch>/
//   installed:   PREFIX/bin/hull       -> PREFIX/share/hull/<arch>/
#pragma once

#include <filesystem>
#include <string>

namespace hull::shim {

struct RuntimePaths {
  std::filesystem::path vmm_binary;  // hull-vmm
  std::filesystem::path kernel;      // bzImage (x86_64) / Image (aarch64)
  std::filesystem::path initrd;      // initramfs.cpio.{lz4,gz}
};

// The host architecture as `uname -m` spells it.
std::string HostArch();

// Resolves the paths next to `self` (the running executable; defaults to
// /proc/self/exe). Entries that do not exist are left at their first
// candidate so an error can name where they were looked for.
RuntimePaths DiscoverRuntimePaths(const std::filesystem::path& self = {});

}  // namespace hull::shim
