#include "jailer/shared_libraries.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "jailer/jailer_error.h"

namespace hull::vmm::jailer {
namespace {
namespace fs = std::filesystem;

TEST(JailerLdList, TakesResolvedPathsAndTheInterpreter) {
  const std::string out =
      "\tlinux-vdso.so.1 (0x00007ffd)\n"
      "\tlibspdlog.so.1.10 => /lib/x86_64-linux-gnu/libspdlog.so.1.10 (0x00007f)\n"
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n"
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n";
  const auto libs = ParseLdList(out);
  ASSERT_EQ(libs.size(), 3u);
  EXPECT_EQ(libs[0], "/lib/x86_64-linux-gnu/libspdlog.so.1.10");
  EXPECT_EQ(libs[1], "/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(libs[2], "/lib64/ld-linux-x86-64.so.2");
}

TEST(JailerLdList, AMissingLibraryIsAnError) {
  EXPECT_THROW(ParseLdList("\tlibgone.so.1 => not found\n"), JailerError);
}

TEST(JailerElf, ADynamicProgramHasAnInterpreterThatExists) {
  const fs::path interp = ReadElfInterpreter("/bin/sh");
  ASSERT_FALSE(interp.empty()) << "/bin/sh is expected to be dynamically linked";
  EXPECT_TRUE(fs::exists(interp)) << interp;
  const auto libs = SharedLibrariesOf("/bin/sh");
  bool has_libc = false;
  for (const auto& l : libs) {
    EXPECT_TRUE(l.is_absolute()) << l;
    has_libc |= l.filename().string().rfind("libc.so", 0) == 0;
  }
  EXPECT_TRUE(has_libc);
}

TEST(JailerElf, ANonElfFileIsRefused) {
  const fs::path f = fs::temp_directory_path() / ("jailer-notelf-" + std::to_string(::getpid()));
  std::ofstream(f) << "#!/bin/sh\necho hi\n";
  EXPECT_THROW(ReadElfInterpreter(f), JailerError);
  fs::remove(f);
  EXPECT_THROW(ReadElfInterpreter(f), JailerError);  // and a missing one
}

}  // namespace
}  // namespace hull::vmm::jailer
