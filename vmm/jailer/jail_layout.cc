#include "jailer/jail_layout.h"

#include "jailer/jail_options.h"

namespace hull::vmm::jailer {
namespace fs = std::filesystem;

JailLayout::JailLayout(const fs::path& chroot_base, const fs::path& exec_file, const std::string& id)
    : exec_name_(exec_file.filename().string()), id_(id) {
  ValidateId(id);
  ValidateMirroredPath(chroot_base, "--chroot-base");
  ValidateId(exec_name_);  // the same rules: one harmless path component
  jail_dir_ = chroot_base / exec_name_ / id_;
  root_ = jail_dir_ / "root";
}

fs::path JailLayout::InRoot(const fs::path& path) const {
  ValidateMirroredPath(path, "a path mirrored into the jail");
  return root_ / path.relative_path();
}

fs::path JailLayout::CgroupPath() const { return fs::path(exec_name_) / id_; }

}  // namespace hull::vmm::jailer
