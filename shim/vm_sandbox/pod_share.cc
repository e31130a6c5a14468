#include "vm_sandbox/pod_share.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "sandbox/host_binds.h"
#include "sandbox/sandbox_error.h"
#include "vm_sandbox/mount_table.h"

namespace hull::vm_sandbox {
namespace fs = std::filesystem;

namespace {

bool HasOption(const nlohmann::json& mount, const char* option) {
  auto options = mount.find("options");
  if (options == mount.end() || !options->is_array()) return false;
  return std::any_of(options->begin(), options->end(),
                     [&](const nlohmann::json& o) { return o.is_string() && o == option; });
}

// The same private shm the erofs path gives (shim::TakeBindsIntoImage).
nlohmann::json PrivateShm() {
  return {{"destination", "/dev/shm"},
          {"type", "tmpfs"},
          {"source", "shm"},
          {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}};
}

// One path component the agent also accepts as a container id.
void CheckContainerId(const std::string& id) {
  const bool ok = !id.empty() && id.size() <= 128 && std::isalnum(static_cast<unsigned char>(id[0])) &&
                  std::all_of(id.begin(), id.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
                  });
  if (!ok) {
    throw PodShareError("container id '" + id + "' cannot name a directory of the virtio-fs share (it must match "
                        "[A-Za-z0-9][A-Za-z0-9_.-]{0,127})");
  }
}

void MakeDir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    throw shim::SandboxError("cannot create " + dir.string() + " in the virtio-fs share: " + std::strerror(errno));
  }
}

// An empty file or directory for a bind mount of `bind.source` to cover.
void MakeMountPoint(const fs::path& target, bool directory) {
  if (directory) {
    MakeDir(target);
    return;
  }
  const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw shim::SandboxError("cannot create " + target.string() + " in the virtio-fs share: " + std::strerror(errno));
  }
  ::close(fd);
}

void BindInto(const ShareBind& bind, const fs::path& target) {
  MakeMountPoint(target, bind.directory);
  if (::mount(bind.source.c_str(), target.c_str(), nullptr, MS_BIND | (bind.recursive ? MS_REC : 0), nullptr) != 0) {
    throw shim::SandboxError("bind-mounting volume " + bind.source.string() + " into the virtio-fs share at " +
                             target.string() + ": " + std::strerror(errno));
  }
  // A read-only volume is read-only for the VMM too, not only in the guest.
  if (bind.read_only &&
      ::mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0) {
    const std::string error = std::strerror(errno);
    ::umount2(target.c_str(), MNT_DETACH);
    throw shim::SandboxError("making volume " + bind.source.string() + " read-only in the virtio-fs share: " + error);
  }
}

}  // namespace

RootfsMode RootfsModeOf(const nlohmann::json& spec, const char* variable) {
  std::string value;
  std::string where;
  const auto pointer = nlohmann::json::json_pointer("/annotations/" + std::string(kRootfsAnnotation));
  if (spec.is_object() && spec.contains(pointer)) {
    const auto& annotation = spec.at(pointer);
    value = annotation.is_string() ? annotation.get<std::string>() : annotation.dump();
    where = std::string("annotation ") + kRootfsAnnotation;
  } else if (variable != nullptr && *variable != '\0') {
    value = variable;
    where = std::string(kRootfsVariable) + " in containerd's environment";
  }
  if (value.empty() || value == "erofs") return RootfsMode::kErofs;
  if (value == "virtiofs") return RootfsMode::kVirtioFs;
  throw PodShareError(where + " is '" + value +
                      "': it must be 'erofs' (a read-only image of the snapshot, the default) or 'virtiofs' (the "
                      "snapshot and volumes shared with the microVM)");
}

std::string GuestRootfsDir(const std::string& container_id) {
  return std::string(kGuestShareDir) + "/" + container_id + "/rootfs";
}

std::string GuestVolumePath(const std::string& container_id, size_t index) {
  return std::string(kGuestShareDir) + "/" + container_id + "/volumes/" + std::to_string(index);
}

std::vector<ShareBind> ShareBindMounts(nlohmann::json& spec, const std::string& container_id) {
  CheckContainerId(container_id);
  std::vector<ShareBind> binds;
  if (!spec.is_object() || !spec.contains("mounts") || !spec["mounts"].is_array()) return binds;
  for (auto& mount : spec["mounts"]) {
    if (!mount.is_object() || !shim::IsBindMount(mount)) continue;
    const std::string destination_text = mount.value("destination", std::string());
    const fs::path raw(destination_text);
    const fs::path destination = raw.lexically_normal();
    if (destination == "/dev/shm") {
      mount = PrivateShm();
      continue;
    }
    const bool climbs = std::any_of(raw.begin(), raw.end(), [](const fs::path& p) { return p == ".."; });
    if (!destination.is_absolute() || destination == "/" || climbs) {
      throw PodShareError("bind mount destination '" + destination_text +
                          "' must be an absolute path below / without '..'");
    }
    const std::string source_text = mount.value("source", std::string());
    std::error_code ec;
    const auto status = fs::status(source_text, ec);
    if (source_text.empty() || ec || !(fs::is_regular_file(status) || fs::is_directory(status))) {
      throw PodShareError("bind mount source '" + source_text + "' (for " + destination_text +
                          ") does not exist on the host or is neither a file nor a directory");
    }
    ShareBind bind;
    bind.source = source_text;
    bind.directory = fs::is_directory(status);
    bind.read_only = HasOption(mount, "ro");
    bind.recursive = HasOption(mount, "rbind");
    mount["source"] = GuestVolumePath(container_id, binds.size());
    binds.push_back(std::move(bind));
  }
  return binds;
}

PodShare::PodShare(fs::path root) : root_(std::move(root)) {
  if (::mkdir(root_.c_str(), 0700) != 0) {
    throw shim::SandboxError("cannot create the virtio-fs share " + root_.string() + ": " + std::strerror(errno));
  }
  // A mount point of its own, shared: what is mounted below it later
  // propagates to the jailed VMM's slave copy.
  if (::mount(root_.c_str(), root_.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
      ::mount(nullptr, root_.c_str(), nullptr, MS_SHARED, nullptr) != 0) {
    const std::string error = std::strerror(errno);
    ::umount2(root_.c_str(), MNT_DETACH);
    ::rmdir(root_.c_str());
    throw shim::SandboxError("cannot make the virtio-fs share " + root_.string() + " a shared mount point: " + error);
  }
}

PodShare::~PodShare() {
  for (auto& [id, rootfs] : containers_) rootfs.reset();
  containers_.clear();
  if (!DetachMountsBelow(root_).empty()) return;  // never remove through a mount
  std::error_code ec;
  fs::remove_all(root_, ec);
}

fs::path PodShare::RootfsDir(const std::string& container_id) const { return root_ / container_id / "rootfs"; }

fs::path PodShare::VolumePath(const std::string& container_id, size_t index) const {
  return root_ / container_id / "volumes" / std::to_string(index);
}

void PodShare::AddContainer(const std::string& container_id, const std::vector<RootfsMount>& rootfs_mounts,
                            const fs::path& rootfs_dir, const std::vector<ShareBind>& binds) {
  try {
    CheckContainerId(container_id);
  } catch (const PodShareError& e) {
    throw shim::SandboxError(e.what(), 3 /*INVALID_ARGUMENT*/);
  }
  if (containers_.count(container_id) != 0) {
    throw shim::SandboxError("container " + container_id + " is already in the virtio-fs share", 6 /*ALREADY_EXISTS*/);
  }
  const fs::path dir = root_ / container_id;
  if (::mkdir(dir.c_str(), 0700) != 0) {
    throw shim::SandboxError("cannot create " + dir.string() + " in the virtio-fs share: " + std::strerror(errno));
  }
  try {
    MakeDir(RootfsDir(container_id));
    std::vector<RootfsMount> mounts = rootfs_mounts;
    if (mounts.empty()) mounts.push_back({"bind", rootfs_dir.string(), {"rbind"}});
    containers_[container_id] = std::make_unique<MountedRootfs>(mounts, RootfsDir(container_id));
    if (!binds.empty()) MakeDir(dir / "volumes");
    for (size_t i = 0; i < binds.size(); ++i) BindInto(binds[i], VolumePath(container_id, i));
  } catch (...) {
    RemoveContainer(container_id);
    throw;
  }
}

void PodShare::RemoveContainer(const std::string& container_id) {
  const fs::path dir = root_ / container_id;
  std::error_code ec;
  if (containers_.count(container_id) == 0 && !fs::exists(dir, ec)) return;
  DetachMountsBelow(dir / "volumes");
  containers_.erase(container_id);  // unmounts the rootfs (lazily when the VMM holds files there)
  if (!DetachMountsBelow(dir).empty()) return;  // never remove through a mount
  fs::remove_all(dir, ec);
}

}  // namespace hull::vm_sandbox
