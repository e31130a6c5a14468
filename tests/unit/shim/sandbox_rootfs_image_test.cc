#include "sandbox/rootfs_image.h"

#include <gtest/gtest.h>

#include <fstream>

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

}  // namespace
}  // namespace hull::shim
