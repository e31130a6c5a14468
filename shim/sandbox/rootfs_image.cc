#include "sandbox/rootfs_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/uuid/name_generator_sha1.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <cerrno>
#include <ctime>
#include <cstring>
#include <random>
#include <sstream>
#include <system_error>

#include "sandbox/sandbox_error.h"
#include "sandbox/subprocess.h"

namespace hull::shim {

namespace fs = std::filesystem;

namespace {

constexpr char kImageSuffix[] = ".erofs";
constexpr char kTempMarker[] = ".tmp.";
// A build normally takes seconds; a temporary file this old belongs to a shim that died.
constexpr time_t kStaleTempAgeSeconds = 3600;

std::string Errno(int err) { return std::strerror(err); }

std::string UniqueSuffix() {
  std::random_device rd;
  std::ostringstream out;
  out << ::getpid() << "." << std::hex << rd() << rd();
  return out.str();
}

}  // namespace

void BuildErofsImage(const fs::path& rootfs_dir, const fs::path& image) {
  std::error_code ec;
  if (!fs::is_directory(rootfs_dir, ec)) {
    throw SandboxError("container root filesystem " + rootfs_dir.string() +
                       " is not a directory (check root.path in config.json)");
  }
  // Build next to the target and rename, so a crash never leaves a half image
  // that a later run would take for a finished one.
  const fs::path partial = image.string() + ".partial";
  fs::remove(partial, ec);
  try {
    // -T0 and a fixed UUID: same tree, same bytes (reproducible images).
    RunCommandOrThrow({"mkfs.erofs", "-T0", "-U", "6c6c7568-0000-4000-8000-000000000000", "--quiet", partial.string(), rootfs_dir.string()},
                      "building the erofs rootfs image");
  } catch (...) {
    fs::remove(partial, ec);
    throw;
  }
  fs::rename(partial, image, ec);
  if (ec) {
    fs::remove(partial, ec);
    throw SandboxError("cannot move the rootfs image into place at " + image.string() + ": " +
                       ec.message());
  }
}

std::optional<std::string> LayerChainCacheKey(const std::vector<fs::path>& lowerdirs, const fs::path& upperdir) {
  if (lowerdirs.empty()) return std::nullopt;
  std::error_code ec;
  if (!upperdir.empty() && !fs::is_empty(upperdir, ec)) return std::nullopt;  // also when unreadable
  std::ostringstream identity;
  identity << "hull erofs rootfs v1 (mkfs.erofs -T0, fixed uuid)\n";
  for (const fs::path& dir : lowerdirs) {
    struct stat st {};
    if (!dir.is_absolute() || ::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::nullopt;
    identity << dir.string() << '\0' << st.st_dev << ':' << st.st_ino << ':' << st.st_ctim.tv_sec << '.'
             << st.st_ctim.tv_nsec << '\n';
  }
  // A name-based (SHA-1) UUID: a fixed-length file name for any chain.
  boost::uuids::name_generator_sha1 name(boost::uuids::ns::url());
  return boost::uuids::to_string(name(identity.str()));
}

RootfsImageCache::RootfsImageCache(fs::path dir, uint64_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {}

fs::path RootfsImageCache::EntryPath(const std::string& key) const { return dir_ / (key + kImageSuffix); }

bool RootfsImageCache::Provide(const std::string& key, const fs::path& dest,
                               const std::function<void(const fs::path&)>& build) {
  if (key.empty() || key.find('/') != std::string::npos || key.find("..") != std::string::npos) {
    throw SandboxError("rootfs image cache: invalid key '" + key + "'");
  }
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw SandboxError("cannot create the rootfs image cache " + dir_.string() + ": " + ec.message());
  const fs::path entry = EntryPath(key);
  bool hit = false;
  // A few rounds: another shim may evict the entry between our build and our link.
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (::link(entry.c_str(), dest.c_str()) == 0) {
      hit = attempt == 0;
      // Marks the entry recently used for eviction (mtime; the shared inode is the entry).
      ::utimensat(AT_FDCWD, entry.c_str(), nullptr, 0);
      Evict();
      return hit;
    }
    if (errno != ENOENT) {
      throw SandboxError("cannot link the cached rootfs image " + entry.string() + " to " + dest.string() + ": " +
                         Errno(errno) + " (the state directory and " + dir_.string() +
                         " must be on one filesystem)");
    }
    const fs::path temp = dir_ / (key + kTempMarker + UniqueSuffix());
    try {
      build(temp);
    } catch (...) {
      fs::remove(temp, ec);
      throw;
    }
    // Publish without replacing: if another shim was first, its identical image stays.
    const int published = ::link(temp.c_str(), entry.c_str());
    const int err = errno;
    fs::remove(temp, ec);
    if (published != 0 && err != EEXIST) {
      throw SandboxError("cannot publish the rootfs image " + entry.string() + ": " + Errno(err));
    }
  }
  throw SandboxError("rootfs image cache " + dir_.string() +
                     ": the image kept disappearing while it was being taken (is the cache bound too small?)");
}

void RootfsImageCache::Evict() {
  struct Entry {
    fs::path path;
    uint64_t bytes;
    struct timespec mtime;
    bool in_use;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  std::error_code ec;
  const time_t now = ::time(nullptr);
  for (const auto& de : fs::directory_iterator(dir_, ec)) {
    const std::string name = de.path().filename().string();
    struct stat st {};
    if (::lstat(de.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (name.find(kTempMarker) != std::string::npos) {
      if (now - st.st_mtim.tv_sec > kStaleTempAgeSeconds) fs::remove(de.path(), ec);
      continue;
    }
    if (!name.ends_with(kImageSuffix)) continue;
    total += static_cast<uint64_t>(st.st_size);
    entries.push_back({de.path(), static_cast<uint64_t>(st.st_size), st.st_mtim, st.st_nlink > 1});
  }
  if (total <= max_bytes_) return;
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.mtime.tv_sec != b.mtime.tv_sec ? a.mtime.tv_sec < b.mtime.tv_sec : a.mtime.tv_nsec < b.mtime.tv_nsec;
  });
  for (const Entry& e : entries) {
    if (total <= max_bytes_) break;
    if (e.in_use) continue;  // a sandbox's link keeps it; the bound is exceeded until it goes
    if (fs::remove(e.path, ec)) total -= e.bytes;
  }
}

}  // namespace hull::shim
