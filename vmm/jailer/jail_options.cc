#include "jailer/jail_options.h"

#include <sys/stat.h>
#include <unistd.h>

#include "jailer/jailer_error.h"

namespace hull::vmm::jailer {
namespace fs = std::filesystem;

void ValidateId(const std::string& id) {
  if (id.empty() || id.size() > 64) {
    throw JailerError("--id must be 1 to 64 characters long (got " + std::to_string(id.size()) + ")");
  }
  if (id[0] == '.' || id[0] == '-') {
    throw JailerError("--id '" + id + "' must not start with '.' or '-' (it names a directory)");
  }
  for (unsigned char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) {
      throw JailerError("--id may hold only letters, digits, '_', '.' and '-' (it names a directory); "
                        "got a byte 0x" + std::string(1, "0123456789abcdef"[c >> 4]) +
                        std::string(1, "0123456789abcdef"[c & 15]));
    }
  }
}

void ValidateMirroredPath(const fs::path& path, const char* what) {
  const std::string s = path.string();
  if (s.empty() || !path.is_absolute()) {
    throw JailerError(std::string(what) + " '" + s + "' must be an absolute path");
  }
  if (s.find('\0') != std::string::npos) throw JailerError(std::string(what) + " holds a NUL byte");
  for (const auto& part : path.relative_path()) {
    if (part == "." || part == "..") {
      throw JailerError(std::string(what) + " '" + s +
                        "' has a '.' or '..' component: give the real path (realpath)");
    }
  }
  if (path.relative_path().empty()) throw JailerError(std::string(what) + " must not be '/'");
}

namespace {

void RequireRegularFile(const fs::path& path, const char* what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw JailerError::FromErrno(std::string(what) + " " + path.string(), errno);
  }
  if (!S_ISREG(st.st_mode)) {
    throw JailerError(std::string(what) + " " + path.string() + " is not a regular file");
  }
}

}  // namespace

void ValidateForStart(const JailOptions& o) {
  ValidateId(o.id);
  if (!o.uid_given || !o.gid_given) throw JailerError("give both --uid and --gid (the VMM's unprivileged ids)");
  if ((o.uid == 0 || o.gid == 0) && !o.allow_root) {
    throw JailerError("--uid/--gid 0 would leave the VMM root: pick an unprivileged id "
                      "(or pass --allow-root-ids to debug)");
  }
  ValidateMirroredPath(o.exec_file, "--exec-file");
  RequireRegularFile(o.exec_file, "--exec-file");
  if (::access(o.exec_file.c_str(), X_OK) != 0) {
    throw JailerError("--exec-file " + o.exec_file.string() + " is not executable");
  }
  ValidateMirroredPath(o.chroot_base, "--chroot-base");
  ValidateMirroredPath(o.cgroup_root, "--cgroup-root");
  for (const auto& f : o.files) {
    ValidateMirroredPath(f, "--file");
    RequireRegularFile(f, "--file");
  }
  for (const auto& d : o.socket_dirs) ValidateMirroredPath(d, "--socket-dir");
  for (const auto& d : o.share_dirs) {
    ValidateMirroredPath(d, "--share-dir");
    struct stat st {};
    if (::lstat(d.c_str(), &st) != 0) throw JailerError::FromErrno("--share-dir " + d.string(), errno);
    if (!S_ISDIR(st.st_mode)) throw JailerError("--share-dir " + d.string() + " is not a directory (nor may it be a symlink)");
  }
  if (!o.netns.empty() && !o.netns.is_absolute()) throw JailerError("--netns must be an absolute path");
  for (const auto& tap : o.taps) {
    if (tap.empty() || tap.size() >= 16 || tap.find('/') != std::string::npos) {
      throw JailerError("--tap '" + tap + "' is not a network interface name (1 to 15 bytes, no '/')");
    }
  }
  if (o.limits.cpus && !(*o.limits.cpus >= 0.01 && *o.limits.cpus <= 1024)) {
    throw JailerError("--cpus must be between 0.01 and 1024");
  }
  if (o.limits.memory_max && *o.limits.memory_max < (4u << 20)) {
    throw JailerError("--memory-max below 4 MiB cannot run a VMM");
  }
  if (o.limits.pids_max && *o.limits.pids_max < 4) throw JailerError("--pids-max below 4 cannot run a VMM");
  if (o.nofile && *o.nofile < 16) throw JailerError("--nofile below 16 cannot run a VMM");
}

}  // namespace hull::vmm::jailer
