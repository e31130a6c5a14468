// A read-only mapping of a whole file (kernel images): no copy, unmapped on
// destruction. Errors are BootErrors naming the file.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace hull::vmm::arch {

class MappedFile {
 public:
  // `what` is how errors name the file ("kernel image", "initrd").
  MappedFile(const std::string& path, const std::string& what);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Size of a regular file, or BootError naming it.
uint64_t RegularFileSize(const std::string& path, const std::string& what);
// Reads the whole file into `out` (which must be exactly its size).
void ReadFileInto(const std::string& path, std::span<uint8_t> out, const std::string& what);

}  // namespace hull::vmm::arch
