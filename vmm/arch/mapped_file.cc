#include "arch/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "arch/arch.h"
#include "kvm/unique_fd.h"

namespace hull::vmm::arch {
namespace {

UniqueFd OpenRegular(const std::string& path, const std::string& what, uint64_t* size) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) throw BootError(what + " " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw BootError(what + " " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw BootError(what + " " + path + ": not a regular file");
  *size = static_cast<uint64_t>(st.st_size);
  return fd;
}

}  // namespace

MappedFile::MappedFile(const std::string& path, const std::string& what) {
  uint64_t size = 0;
  UniqueFd fd = OpenRegular(path, what, &size);
  if (size == 0) throw BootError(what + " " + path + ": file is empty");
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (p == MAP_FAILED)
    throw BootError(what + " " + path + ": cannot map it: " + std::strerror(errno));
  data_ = static_cast<const uint8_t*>(p);
  size_ = size;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

uint64_t RegularFileSize(const std::string& path, const std::string& what) {
  uint64_t size = 0;
  OpenRegular(path, what, &size);
  return size;
}

void ReadFileInto(const std::string& path, std::span<uint8_t> out, const std::string& what) {
  uint64_t size = 0;
  UniqueFd fd = OpenRegular(path, what, &size);
  if (size != out.size()) throw BootError(what + " " + path + ": changed size while loading");
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::read(fd.get(), out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw BootError(what + " " + path +
                      ": read failed: " + (n < 0 ? std::strerror(errno) : "unexpected end"));
    done += static_cast<size_t>(n);
  }
}

}  // namespace hull::vmm::arch
