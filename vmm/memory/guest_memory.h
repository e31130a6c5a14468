// Guest physical memory: a set of host mappings, each backing one contiguous
// guest-physical range. Every guest-supplied address goes through Translate(),
// which refuses anything not fully inside one region — the single point where
// a hostile guest's pointers are checked.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace hull::vmm {

using GuestAddress = uint64_t;

class MemoryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One guest-physical range backed by a host mapping. Owns the mapping and the
// memfd behind it (so the memory can later be shared with another process).
class MemoryRegion {
 public:
  struct Options {
    bool hugepages = false;  // MAP_HUGETLB / MFD_HUGETLB (2 MiB pages)
    // true: a memfd another process can map (vhost-user, virtio-fs daemons).
    // false: private anonymous memory, 2 MiB-aligned and advised for
    // transparent huge pages, which the host kernel backs with 2 MiB pages
    // (far fewer nested page faults; shmem gets THP only where the admin
    // enabled it). memfd() is then -1.
    bool shareable = true;
  };

  // Creates an anonymous, zero-filled region. Throws MemoryError.
  MemoryRegion(GuestAddress guest_base, uint64_t size, Options options);
  MemoryRegion(GuestAddress guest_base, uint64_t size) : MemoryRegion(guest_base, size, Options{}) {}
  ~MemoryRegion();
  MemoryRegion(MemoryRegion&& other) noexcept;
  MemoryRegion& operator=(MemoryRegion&& other) noexcept;
  MemoryRegion(const MemoryRegion&) = delete;
  MemoryRegion& operator=(const MemoryRegion&) = delete;

  GuestAddress guest_base() const { return guest_base_; }
  uint64_t size() const { return size_; }
  GuestAddress guest_end() const { return guest_base_ + size_; }  // exclusive
  uint8_t* host_base() const { return host_; }
  int memfd() const { return memfd_; }

 private:
  void MapAnonymous();

  GuestAddress guest_base_;
  uint64_t size_;
  uint8_t* host_ = nullptr;
  uint64_t mapped_size_ = 0;  // what to munmap (anonymous regions map exactly size_)
  int memfd_ = -1;
};

class GuestMemory {
 public:
  GuestMemory() = default;
  // Adds a region; regions must not overlap. Throws MemoryError.
  void AddRegion(MemoryRegion region);

  // Host view of [address, address + length), or an empty optional when any
  // byte of it lies outside guest RAM or the range spans two regions.
  std::optional<std::span<uint8_t>> Translate(GuestAddress address, uint64_t length) const;
  bool Contains(GuestAddress address, uint64_t length) const {
    return Translate(address, length).has_value();
  }

  // Copies; return false (and copy nothing) when the range is not guest RAM.
  bool Read(GuestAddress address, std::span<uint8_t> out) const;
  bool Write(GuestAddress address, std::span<const uint8_t> in) const;

  template <typename T>
  std::optional<T> ReadObj(GuestAddress address) const {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    if (!Read(address, {reinterpret_cast<uint8_t*>(&value), sizeof(T)})) return std::nullopt;
    return value;
  }
  template <typename T>
  bool WriteObj(GuestAddress address, const T& value) const {
    static_assert(std::is_trivially_copyable_v<T>);
    return Write(address, {reinterpret_cast<const uint8_t*>(&value), sizeof(T)});
  }

  // Like Read/Write but throw MemoryError naming the range (for loaders, where
  // a miss is a configuration error rather than guest misbehaviour).
  void ReadOrThrow(GuestAddress address, std::span<uint8_t> out, const char* what) const;
  void WriteOrThrow(GuestAddress address, std::span<const uint8_t> in, const char* what) const;

  const std::vector<MemoryRegion>& regions() const { return regions_; }
  uint64_t total_size() const;
  // One past the highest guest-physical address backed by RAM.
  GuestAddress end() const;

 private:
  std::vector<MemoryRegion> regions_;  // sorted by guest_base
};

}  // namespace hull::vmm
