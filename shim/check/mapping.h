// Owns an mmap()ed range; unmaps it once.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <utility>

namespace hull::check {

class Mapping {
 public:
  Mapping() = default;
  Mapping(void* addr, size_t size) : addr_(addr), size_(size) {}
  Mapping(Mapping&& other) noexcept
      : addr_(std::exchange(other.addr_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  Mapping& operator=(Mapping&&) = delete;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (valid()) ::munmap(addr_, size_);
  }

  void* get() const { return addr_; }
  bool valid() const { return addr_ != nullptr && addr_ != MAP_FAILED; }

 private:
  void* addr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace hull::check
