// Runs a shell command for the guest tests and captures what it printed.
#pragma once

#include <filesystem>
#include <string>

namespace hull::guest_test {

struct CommandResult {
  int exit_status = -1;  // -1 when it did not exit normally
  std::string output;    // stdout, and stderr too when requested with 2>&1
};

// Runs `command` with /bin/sh; binary-safe output.
CommandResult RunCommand(const std::string& command);

// Quotes a string for /bin/sh.
std::string ShellQuote(const std::string& s);

std::string ReadFile(const std::filesystem::path& path);
void WriteFile(const std::filesystem::path& path, const std::string& bytes);

// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace hull::guest_test
