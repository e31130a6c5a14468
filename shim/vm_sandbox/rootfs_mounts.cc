#include "vm_sandbox/rootfs_mounts.h"

#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "sandbox/sandbox_error.h"

namespace hull::vm_sandbox {

namespace {

struct FlagOption {
  bool clear;
  unsigned long flag;
};

const std::map<std::string, FlagOption>& FlagOptions() {
  static const std::map<std::string, FlagOption> table = {
      {"async", {true, MS_SYNCHRONOUS}}, {"atime", {true, MS_NOATIME}},
      {"bind", {false, MS_BIND}},        {"defaults", {false, 0}},
      {"dev", {true, MS_NODEV}},         {"diratime", {true, MS_NODIRATIME}},
      {"dirsync", {false, MS_DIRSYNC}},  {"exec", {true, MS_NOEXEC}},
      {"mand", {false, MS_MANDLOCK}},    {"noatime", {false, MS_NOATIME}},
      {"nodev", {false, MS_NODEV}},      {"nodiratime", {false, MS_NODIRATIME}},
      {"noexec", {false, MS_NOEXEC}},    {"nomand", {true, MS_MANDLOCK}},
      {"norelatime", {true, MS_RELATIME}}, {"nostrictatime", {true, MS_STRICTATIME}},
      {"nosuid", {false, MS_NOSUID}},    {"rbind", {false, MS_BIND | MS_REC}},
      {"relatime", {false, MS_RELATIME}}, {"remount", {false, MS_REMOUNT}},
      {"ro", {false, MS_RDONLY}},        {"rw", {true, MS_RDONLY}},
      {"strictatime", {false, MS_STRICTATIME}}, {"suid", {true, MS_NOSUID}},
      {"sync", {false, MS_SYNCHRONOUS}},
  };
  return table;
}

}  // namespace

ParsedMountOptions ParseMountOptions(const std::string& type, const std::vector<std::string>& options) {
  ParsedMountOptions parsed;
  for (const auto& option : options) {
    auto it = FlagOptions().find(option);
    if (it == FlagOptions().end()) {
      parsed.data += (parsed.data.empty() ? "" : ",") + option;
      continue;
    }
    if (it->second.clear) {
      parsed.flags &= ~it->second.flag;
    } else {
      parsed.flags |= it->second.flag;
    }
  }
  if (type == "bind" || type == "rbind") parsed.flags |= MS_BIND | (type == "rbind" ? MS_REC : 0);
  parsed.bind = (parsed.flags & MS_BIND) != 0;
  return parsed;
}

std::optional<SnapshotLayers> SnapshotLayersOf(const std::vector<RootfsMount>& mounts) {
  if (mounts.size() != 1) return std::nullopt;
  const RootfsMount& m = mounts.front();
  const ParsedMountOptions parsed = ParseMountOptions(m.type, m.options);
  SnapshotLayers layers;
  if (parsed.bind) {
    if ((parsed.flags & MS_RDONLY) == 0) return std::nullopt;  // a writable snapshot is no layer
    layers.lowerdirs.emplace_back(m.source);
    return layers;
  }
  if (m.type != "overlay") return std::nullopt;
  for (const auto& option : m.options) {
    const auto eq = option.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = option.substr(0, eq);
    const std::string value = option.substr(eq + 1);
    if (value.find('\\') != std::string::npos) return std::nullopt;
    if (key == "upperdir") {
      layers.upperdir = value;
    } else if (key == "lowerdir") {
      size_t start = 0;
      while (start <= value.size()) {
        const size_t colon = std::min(value.find(':', start), value.size());
        if (colon == start) return std::nullopt;  // "a::b" or a trailing ':'
        layers.lowerdirs.emplace_back(value.substr(start, colon - start));
        start = colon + 1;
      }
    }
  }
  if (layers.lowerdirs.empty()) return std::nullopt;
  return layers;
}

RootfsMount FilesOverTree(const std::filesystem::path& files_dir, const std::filesystem::path& tree) {
  for (const auto& dir : {files_dir, tree}) {
    if (!dir.is_absolute() || dir.string().find_first_of(":,\\") != std::string::npos) {
      throw shim::SandboxError("cannot lay bind mount snapshots over the rootfs: " + dir.string() +
                               " is not an absolute path without ':', ',' or '\\' (overlayfs layers)");
    }
  }
  return {"overlay", "overlay", {"ro", "lowerdir=" + files_dir.string() + ":" + tree.string()}};
}

MountedRootfs::MountedRootfs(const std::vector<RootfsMount>& mounts, std::filesystem::path target)
    : target_(std::move(target)) {
  std::error_code ec;
  std::filesystem::create_directories(target_, ec);
  for (const auto& m : mounts) {
    ParsedMountOptions parsed = ParseMountOptions(m.type, m.options);
    const unsigned long flags = parsed.flags & ~static_cast<unsigned long>(MS_RDONLY);
    const char* fstype = parsed.bind ? nullptr : m.type.c_str();
    if (::mount(m.source.c_str(), target_.c_str(), fstype, flags,
                parsed.data.empty() ? nullptr : parsed.data.c_str()) != 0) {
      const std::string error = std::strerror(errno);
      UnmountAll();
      throw shim::SandboxError("mounting the container's rootfs (" + m.type + " from " + m.source +
                               ") on " + target_.string() + ": " + error +
                               (m.type == "overlay" ? " (is the overlay module loaded?)" : ""));
    }
    ++mounted_;
    // A read-only bind needs a remount: the kernel ignores MS_RDONLY on the first bind.
    if (parsed.bind && (parsed.flags & MS_RDONLY)) {
      ::mount(nullptr, target_.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr);
    }
  }
}

MountedRootfs::~MountedRootfs() { UnmountAll(); }

void MountedRootfs::UnmountAll() noexcept {
  for (; mounted_ > 0; --mounted_) {
    if (::umount2(target_.c_str(), 0) != 0) ::umount2(target_.c_str(), MNT_DETACH);
  }
}

}  // namespace hull::vm_sandbox
