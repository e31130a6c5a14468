// Builds what the agent integration tests run: a busybox rootfs in a fresh
// temporary directory and a config.json shaped like `runc spec`'s default.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace hull::testing {

// A temporary directory removed (with anything mounted below detached) on destruction.
class TempDir {
 public:
  // A fresh directory under `base` (which must exist).
  explicit TempDir(const std::string& base = "/tmp");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// <dir>/rootfs with /bin/busybox and its applet links, /etc/passwd (root,
// nobody, and "user" 1000:1000), /etc/group. Returns the rootfs path.
std::string make_busybox_rootfs(const std::string& dir);

// runc spec's default config.json with `args`, terminal off, root.path "rootfs".
nlohmann::json default_spec(const std::vector<std::string>& args);

// Runs argv, returns stdout+stderr and sets *status to the exit code.
std::string run_command(const std::vector<std::string>& argv, int* status);

// Empty when the feature is there, else why a test must skip.
std::string why_no_busybox();

}  // namespace hull::testing
