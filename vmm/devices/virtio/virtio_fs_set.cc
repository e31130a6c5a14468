#include "devices/virtio/virtio_fs_set.h"

#include <set>

#include "devices/virtio/device_error.h"

namespace hull::vmm::virtio {
namespace {

FsDeviceOptions ToOptions(const config::FsConfig& fs) {
  FsDeviceOptions o;
  o.tag = fs.tag;
  o.fs.path = fs.path;
  o.fs.read_only = fs.read_only;
  return o;
}

}  // namespace

void CheckFs(const config::FsConfig& fs) { VirtioFs probe(ToOptions(fs)); }

void CheckFsSet(const std::vector<config::FsConfig>& shares) {
  std::set<std::string> tags;
  for (const auto& s : shares) {
    if (!tags.insert(s.tag).second)
      throw DeviceError("virtio-fs tag '" + s.tag + "' is used twice: every share needs its own tag");
  }
}

VirtioFsSet::VirtioFsSet() : loop_(std::make_shared<io::EventLoop>()) {}

VirtioFsSet::~VirtioFsSet() { loop_->Stop(); }

std::vector<std::shared_ptr<VirtioFs>> VirtioFsSet::Build(const std::vector<config::FsConfig>& shares) {
  CheckFsSet(shares);
  std::vector<std::shared_ptr<VirtioFs>> built;
  for (const auto& s : shares) built.push_back(std::make_shared<VirtioFs>(ToOptions(s)));
  return built;
}

void VirtioFsSet::Start(std::function<void()> thread_setup) {
  if (!transports_.empty()) loop_->Start(std::move(thread_setup));
}

}  // namespace hull::vmm::virtio
