#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <thread>
#include <vector>

#include "sandbox/rootfs_image.h"
#include "sandbox/sandbox_error.h"
#include "sandbox_fake_server.h"

namespace hull::shim {
namespace {

namespace fs = std::filesystem;

uint32_t ReadLe32(const fs::path& file, std::streamoff offset) {
  std::ifstream in(file, std::ios::binary);
  in.seekg(offset);
  unsigned char b[4] = {};
  in.read(reinterpret_cast<char*>(b), 4);
  return b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
}

std::string Slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(RootfsImageTest, BuildsAReproducibleErofsImage) {
  fs::path dir = testing::TempPath("rootfs");
  fs::create_directories(dir / "bin");
  std::ofstream(dir / "bin" / "hello") << "#!/bin/sh\necho hello\n";
  fs::path a = dir.string() + "-a.erofs";
  fs::path b = dir.string() + "-b.erofs";
  BuildErofsImage(dir, a);
  BuildErofsImage(dir, b);
  EXPECT_EQ(ReadLe32(a, 1024), 0xE0F5E1E2u);  // EROFS_SUPER_MAGIC_V1 at 1 KiB
  EXPECT_TRUE(Slurp(a) == Slurp(b)) << "two builds of the same tree differ";
  EXPECT_FALSE(fs::exists(a.string() + ".partial"));
  fs::remove_all(dir);
  fs::remove(a);
  fs::remove(b);
}

TEST(RootfsImageTest, MissingRootfsIsAClearError) {
  fs::path out = testing::TempPath("img");
  try {
    BuildErofsImage("/nonexistent/rootfs", out);
    FAIL();
  } catch (const SandboxError& e) {
    EXPECT_NE(std::string(e.what()).find("root.path"), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(out));
}

// --- the layer-chain key ---

struct LayerDirs {
  fs::path root = testing::TempPath("layers");
  fs::path a = root / "1" / "fs";
  fs::path b = root / "2" / "fs";
  fs::path upper = root / "3" / "fs";
  LayerDirs() {
    fs::create_directories(a);
    fs::create_directories(b);
    fs::create_directories(upper);
  }
  ~LayerDirs() { fs::remove_all(root); }
};

TEST(LayerChainKeyTest, SameChainSameKeyAndAFileNameSafeShape) {
  LayerDirs d;
  auto k1 = LayerChainCacheKey({d.b, d.a}, d.upper);
  auto k2 = LayerChainCacheKey({d.b, d.a}, d.upper);
  ASSERT_TRUE(k1 && k2);
  EXPECT_EQ(*k1, *k2);
  EXPECT_EQ(k1->size(), 36u);  // a UUID
  EXPECT_EQ(k1->find('/'), std::string::npos);
  // No upper directory (a read-only view) is the same tree.
  EXPECT_EQ(LayerChainCacheKey({d.b, d.a}, {}), k1);
}

TEST(LayerChainKeyTest, OrderAndMembersOfTheChainMatter) {
  LayerDirs d;
  auto ba = LayerChainCacheKey({d.b, d.a}, {});
  EXPECT_NE(LayerChainCacheKey({d.a, d.b}, {}), ba);
  EXPECT_NE(LayerChainCacheKey({d.a}, {}), ba);
  EXPECT_NE(LayerChainCacheKey({d.b}, {}), LayerChainCacheKey({d.a}, {}));
}

TEST(LayerChainKeyTest, ARecreatedSnapshotDirectoryIsANewKey) {
  LayerDirs d;
  auto before = LayerChainCacheKey({d.a}, {});
  // The old directory stays (renamed), so the new one cannot reuse its inode.
  fs::rename(d.a, d.root / "old");
  fs::create_directories(d.a);
  EXPECT_NE(LayerChainCacheKey({d.a}, {}), before);
}

TEST(LayerChainKeyTest, NoKeyWhenTheTreeIsMoreThanItsLayers) {
  LayerDirs d;
  std::ofstream(d.upper / "written-by-someone") << "x";
  EXPECT_FALSE(LayerChainCacheKey({d.a}, d.upper));         // upper has content
  EXPECT_FALSE(LayerChainCacheKey({}, {}));                 // no layers
  EXPECT_FALSE(LayerChainCacheKey({d.root / "nope"}, {}));  // missing layer
  EXPECT_FALSE(LayerChainCacheKey({"relative/dir"}, {}));
  std::ofstream(d.root / "file") << "x";
  EXPECT_FALSE(LayerChainCacheKey({d.root / "file"}, {}));  // not a directory
}

// --- the cache ---

struct CacheDirs {
  fs::path root = testing::TempPath("cache");
  fs::path cache = root / "cache";
  fs::path sandboxes = root / "sandboxes";
  CacheDirs() { fs::create_directories(sandboxes); }
  ~CacheDirs() { fs::remove_all(root); }
  fs::path Sandbox(const std::string& name) const {
    fs::create_directories(sandboxes / name);
    return sandboxes / name / "rootfs.erofs";
  }
};

// A stand-in for mkfs.erofs: writes `bytes` bytes and counts the builds.
auto FakeBuild(std::atomic<int>& builds, size_t bytes = 100, char fill = 'i') {
  return [&builds, bytes, fill](const fs::path& out) {
    ++builds;
    std::ofstream(out, std::ios::binary) << std::string(bytes, fill);
  };
}

nlink_t Links(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_nlink : 0;
}

TEST(RootfsImageCacheTest, SecondSandboxOfAnImageBuildsNothingAndSharesTheInode) {
  CacheDirs d;
  RootfsImageCache cache(d.cache, 1 << 20);
  std::atomic<int> builds{0};
  EXPECT_FALSE(cache.Provide("k1", d.Sandbox("s1"), FakeBuild(builds)));
  EXPECT_TRUE(cache.Provide("k1", d.Sandbox("s2"), FakeBuild(builds)));
  EXPECT_EQ(builds, 1);
  EXPECT_EQ(Links(cache.EntryPath("k1")), 3u);  // the entry and two sandboxes
  EXPECT_EQ(Slurp(d.sandboxes / "s2" / "rootfs.erofs"), std::string(100, 'i'));
  // One sandbox goes: the image stays for the other, and in the cache.
  fs::remove_all(d.sandboxes / "s1");
  cache.Evict();
  EXPECT_EQ(Links(cache.EntryPath("k1")), 2u);
  EXPECT_TRUE(fs::exists(d.sandboxes / "s2" / "rootfs.erofs"));
}

TEST(RootfsImageCacheTest, AFailedBuildLeavesNothing) {
  CacheDirs d;
  RootfsImageCache cache(d.cache, 1 << 20);
  const fs::path dest = d.Sandbox("s1");
  EXPECT_THROW(cache.Provide("k1", dest,
                             [](const fs::path& out) {
                               std::ofstream(out) << "half";
                               throw SandboxError("mkfs failed");
                             }),
               SandboxError);
  EXPECT_FALSE(fs::exists(dest));
  EXPECT_TRUE(fs::is_empty(d.cache));
}

TEST(RootfsImageCacheTest, EvictsUnusedImagesOldestFirstButNeverOneInUse) {
  CacheDirs d;
  RootfsImageCache cache(d.cache, 250);  // room for two 100-byte images
  std::atomic<int> builds{0};
  cache.Provide("old-in-use", d.Sandbox("s1"), FakeBuild(builds));
  cache.Provide("unused", d.Sandbox("s2"), FakeBuild(builds));
  fs::remove_all(d.sandboxes / "s2");  // "unused" is released
  // Make the in-use image the oldest, so age alone would pick it.
  ::utimensat(AT_FDCWD, cache.EntryPath("unused").c_str(), nullptr, 0);
  const struct timespec old_times[2] = {{1, 0}, {1, 0}};
  ::utimensat(AT_FDCWD, cache.EntryPath("old-in-use").c_str(), old_times, 0);
  cache.Provide("new", d.Sandbox("s3"), FakeBuild(builds));  // 300 bytes > 250: evict
  EXPECT_TRUE(fs::exists(cache.EntryPath("old-in-use")));
  EXPECT_FALSE(fs::exists(cache.EntryPath("unused")));
  EXPECT_TRUE(fs::exists(cache.EntryPath("new")));
}

TEST(RootfsImageCacheTest, RemovesTemporaryFilesOfDeadBuildsOnly) {
  CacheDirs d;
  RootfsImageCache cache(d.cache, 1 << 20);
  fs::create_directories(d.cache);
  const fs::path stale = d.cache / "k.tmp.123.abc";
  const fs::path fresh = d.cache / "k.tmp.456.def";
  std::ofstream(stale) << "x";
  std::ofstream(fresh) << "x";
  const struct timespec old_times[2] = {{1, 0}, {1, 0}};
  ::utimensat(AT_FDCWD, stale.c_str(), old_times, 0);
  cache.Evict();
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(fresh));  // may be a build in progress in another shim
}

TEST(RootfsImageCacheTest, RejectsKeysThatLeaveTheCacheDirectory) {
  CacheDirs d;
  RootfsImageCache cache(d.cache, 1 << 20);
  std::atomic<int> builds{0};
  EXPECT_THROW(cache.Provide("../escape", d.Sandbox("s1"), FakeBuild(builds)), SandboxError);
  EXPECT_THROW(cache.Provide("", d.Sandbox("s1"), FakeBuild(builds)), SandboxError);
  EXPECT_EQ(builds, 0);
}

// Two shims start containers of one image at the same moment: each may build,
// but both end with the same complete image and one cache entry.
TEST(RootfsImageCacheTest, ConcurrentProvidersOfOneKeyShareOneEntry) {
  CacheDirs d;
  constexpr int kShims = 8;
  std::atomic<int> builds{0};
  std::atomic<int> ready{0};
  std::vector<std::thread> shims;
  std::vector<fs::path> dests;
  for (int i = 0; i < kShims; ++i) dests.push_back(d.Sandbox("s" + std::to_string(i)));
  for (int i = 0; i < kShims; ++i) {
    shims.emplace_back([&, i] {
      RootfsImageCache cache(d.cache, 1 << 20);  // each shim its own object, as separate processes
      ++ready;
      while (ready < kShims) std::this_thread::yield();
      // Each builder writes distinct bytes, so a torn or replaced image would show.
      cache.Provide("same", dests[i], [&builds, i](const fs::path& out) {
        ++builds;
        std::ofstream f(out, std::ios::binary);
        for (int chunk = 0; chunk < 64; ++chunk) {
          f << std::string(1024, static_cast<char>('a' + i));
          f.flush();
        }
      });
    });
  }
  for (auto& t : shims) t.join();
  EXPECT_GE(builds, 1);
  RootfsImageCache cache(d.cache, 1 << 20);
  EXPECT_EQ(Links(cache.EntryPath("same")), static_cast<nlink_t>(kShims + 1));
  const std::string published = Slurp(cache.EntryPath("same"));
  ASSERT_EQ(published.size(), 64u * 1024);
  EXPECT_EQ(published.find_first_not_of(published[0]), std::string::npos) << "a mixed image";
  for (const auto& dest : dests) EXPECT_EQ(Slurp(dest), published);
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(d.cache)) ++files;
  EXPECT_EQ(files, 1u) << "temporary files left behind";
}

}  // namespace
}  // namespace hull::shim
