#include "memory/guest_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace hull::vmm {
namespace {

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

MemoryRegion::MemoryRegion(GuestAddress guest_base, uint64_t size, Options options)
    : guest_base_(guest_base), size_(size) {
  if (size == 0) throw MemoryError("guest memory region size is 0: give a size of at least 1 page");
  const uint64_t page = options.hugepages ? (2u << 20) : 4096;
  if (size % page != 0 || guest_base % page != 0) {
    throw MemoryError("guest memory region " + Hex(guest_base) + "+" + Hex(size) +
                      " is not aligned to the page size " + Hex(page));
  }
  if (guest_base + size < guest_base) throw MemoryError("guest memory region wraps around");
  if (!options.shareable && !options.hugepages) {
    MapAnonymous();
    return;
  }
  unsigned mfd_flags = MFD_CLOEXEC | (options.hugepages ? MFD_HUGETLB : 0u);
  memfd_ = memfd_create("hull-guest-ram", mfd_flags);
  if (memfd_ < 0) throw MemoryError(Errno("memfd_create for guest memory"));
  if (ftruncate(memfd_, static_cast<off_t>(size)) != 0) {
    int saved = errno;
    close(memfd_);
    errno = saved;
    throw MemoryError(Errno(("sizing guest memory to " + std::to_string(size >> 20) + " MiB").c_str()));
  }
  // MAP_NORESERVE: guest RAM is touched lazily; only what the guest uses costs host memory.
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, memfd_, 0);
  if (p == MAP_FAILED) {
    int saved = errno;
    close(memfd_);
    errno = saved;
    throw MemoryError(Errno(options.hugepages
                                ? "mapping guest memory with huge pages (are hugepages reserved? "
                                  "see /proc/sys/vm/nr_hugepages)"
                                : "mapping guest memory"));
  }
  host_ = static_cast<uint8_t*>(p);
  mapped_size_ = size;
}

void MemoryRegion::MapAnonymous() {
  // Reserve 2 MiB more and trim, so the region starts on a huge-page boundary
  // (THP and KVM's 2 MiB mappings need host and guest addresses aligned alike).
  constexpr uint64_t kHuge = 2u << 20;
  void* p = mmap(nullptr, size_ + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw MemoryError(Errno("mapping guest memory"));
  const auto start = reinterpret_cast<uintptr_t>(p);
  const uintptr_t aligned = (start + kHuge - 1) & ~uintptr_t{kHuge - 1};
  if (aligned > start) munmap(p, aligned - start);
  const uintptr_t end = start + size_ + kHuge;
  if (end > aligned + size_) munmap(reinterpret_cast<void*>(aligned + size_), end - (aligned + size_));
  host_ = reinterpret_cast<uint8_t*>(aligned);
  mapped_size_ = size_;
  // Advice only: without THP the memory still works, in 4 KiB pages.
  madvise(host_, size_, MADV_HUGEPAGE);
}

MemoryRegion::~MemoryRegion() {
  if (host_ != nullptr) munmap(host_, mapped_size_);
  if (memfd_ >= 0) close(memfd_);
}

MemoryRegion::MemoryRegion(MemoryRegion&& other) noexcept
    : guest_base_(other.guest_base_), size_(other.size_), host_(other.host_), mapped_size_(other.mapped_size_),
      memfd_(other.memfd_) {
  other.host_ = nullptr;
  other.memfd_ = -1;
}

MemoryRegion& MemoryRegion::operator=(MemoryRegion&& other) noexcept {
  std::swap(guest_base_, other.guest_base_);
  std::swap(size_, other.size_);
  std::swap(host_, other.host_);
  std::swap(mapped_size_, other.mapped_size_);
  std::swap(memfd_, other.memfd_);
  return *this;
}

void GuestMemory::AddRegion(MemoryRegion region) {
  for (const auto& r : regions_) {
    if (region.guest_base() < r.guest_end() && r.guest_base() < region.guest_end()) {
      throw MemoryError("guest memory region at " + Hex(region.guest_base()) +
                        " overlaps the region at " + Hex(r.guest_base()));
    }
  }
  regions_.push_back(std::move(region));
  std::sort(regions_.begin(), regions_.end(),
            [](const MemoryRegion& a, const MemoryRegion& b) { return a.guest_base() < b.guest_base(); });
}

std::optional<std::span<uint8_t>> GuestMemory::Translate(GuestAddress address, uint64_t length) const {
  for (const auto& r : regions_) {
    if (address < r.guest_base() || address >= r.guest_end()) continue;
    const uint64_t offset = address - r.guest_base();
    // Written so that no sum can overflow: length is compared with what is left.
    if (length > r.size() - offset) return std::nullopt;
    return std::span<uint8_t>(r.host_base() + offset, length);
  }
  return std::nullopt;
}

bool GuestMemory::Read(GuestAddress address, std::span<uint8_t> out) const {
  auto host = Translate(address, out.size());
  if (!host) return false;
  std::memcpy(out.data(), host->data(), out.size());
  return true;
}

bool GuestMemory::Write(GuestAddress address, std::span<const uint8_t> in) const {
  auto host = Translate(address, in.size());
  if (!host) return false;
  std::memcpy(host->data(), in.data(), in.size());
  return true;
}

void GuestMemory::ReadOrThrow(GuestAddress address, std::span<uint8_t> out, const char* what) const {
  if (!Read(address, out)) {
    throw MemoryError(std::string(what) + ": guest range " + Hex(address) + "+" + Hex(out.size()) +
                      " is outside guest memory");
  }
}

void GuestMemory::WriteOrThrow(GuestAddress address, std::span<const uint8_t> in, const char* what) const {
  if (!Write(address, in)) {
    throw MemoryError(std::string(what) + ": guest range " + Hex(address) + "+" + Hex(in.size()) +
                      " is outside guest memory (give the VM more memory?)");
  }
}

uint64_t GuestMemory::total_size() const {
  uint64_t total = 0;
  for (const auto& r : regions_) total += r.size();
  return total;
}

GuestAddress GuestMemory::end() const { return regions_.empty() ? 0 : regions_.back().guest_end(); }

}  // namespace hull::vmm
