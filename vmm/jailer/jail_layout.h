// Where a jail lives, as Firecracker's jailer lays it out:
//   <chroot_base>/<exec file name>/<id>/root   the VMM's "/" after pivot_root
// and where a host path appears inside it (the same absolute path, so paths
// in the VMM's API calls mean the same file inside and outside).
#pragma once

#include <filesystem>
#include <string>

namespace hull::vmm::jailer {

class JailLayout {
 public:
  // Throws JailerError for an id or base that could escape (see ValidateId).
  JailLayout(const std::filesystem::path& chroot_base, const std::filesystem::path& exec_file,
             const std::string& id);

  const std::filesystem::path& jail_dir() const { return jail_dir_; }  // <base>/<exec>/<id>
  const std::filesystem::path& root() const { return root_; }          // <jail_dir>/root
  // Host path of `path` (absolute, normal) mirrored inside the root.
  std::filesystem::path InRoot(const std::filesystem::path& path) const;
  // The cgroup (relative to a hierarchy's root): <exec file name>/<id>.
  std::filesystem::path CgroupPath() const;

 private:
  std::string exec_name_;
  std::string id_;
  std::filesystem::path jail_dir_;
  std::filesystem::path root_;
};

}  // namespace hull::vmm::jailer
