// Reader for newc ("070701") cpio archives, as the kernel unpacks them, so the
// tests check the initramfs structure byte by byte.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace hull::guest_test {

struct CpioEntry {
  std::string name;
  uint32_t ino = 0, mode = 0, uid = 0, gid = 0, nlink = 0, mtime = 0;
  uint32_t rdev_major = 0, rdev_minor = 0;
  std::string data;
};

struct CpioError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Entries in archive order, without the trailer; throws CpioError on a bad
// magic, a truncated entry or a missing trailer.
std::vector<CpioEntry> ReadCpio(const std::string& archive);

}  // namespace hull::guest_test
