#include "sandbox/microvm.h"

#include <thread>

#include "sandbox/sandbox_error.h"
#include "sandbox/vsock_dialer.h"

namespace hull::shim {
namespace fs = std::filesystem;

namespace {
// The guest's vsock context id; any value >= 3 works since each VM has its own device.
constexpr uint32_t kGuestCid = 3;

void RequireFile(const fs::path& path, const char* what, const char* fix) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw SandboxError(std::string(what) + " not found at " + path.string() + " (" + fix + ")",
                       /*FAILED_PRECONDITION*/ 9);
  }
}
}  // namespace

std::string MicroVm::DefaultBootArgs() const {
  // reboot=k: the guest ends its VM through the i8042 reset that hull-vmm
  // treats as a clean stop (DESIGN.md); panic=-1 turns a guest panic into one too.
  // pci=off, nomodule and the i8042 flags skip probes that cost boot time on a
  // machine that has none of it (the same defaults hull-vmm uses).
  std::string args = HostArch() == "aarch64"
                         ? "console=ttyAMA0 panic=-1 quiet"
                         : "console=ttyS0 reboot=k panic=-1 pci=off nomodule i8042.noaux "
                           "i8042.nomux i8042.nopnp i8042.dumbkbd quiet";
  if (!spec_.extra_boot_args.empty()) args += " " + spec_.extra_boot_args;
  return args;
}

MicroVm::MicroVm(MicroVmSpec spec)
    : spec_(std::move(spec)), socket_dir_(spec_.state_dir) {
  RequireFile(spec_.runtime.kernel, "guest kernel",
              "build it with `cmake --build build --target guest-kernel`");
  RequireFile(spec_.runtime.initrd, "guest initramfs",
              "build it with `cmake --build build --target guest-initramfs`");
  for (const auto& d : spec_.drives) RequireFile(d.path, "drive image", "check the drive path");
  std::error_code ec;
  fs::create_directories(spec_.state_dir, ec);
  if (ec) {
    throw SandboxError("cannot create the sandbox state directory " + spec_.state_dir.string() +
                       ": " + ec.message());
  }

  VmmProcessOptions options;
  options.vmm_binary = spec_.runtime.vmm_binary;
  options.api_socket = socket_dir() / "api.sock";
  options.log_file = log_file();
  options.die_with_parent = spec_.die_with_parent;
  options.netns = spec_.netns;
  std::vector<std::string> taps;
  for (const auto& n : spec_.nets) taps.push_back(n.tap);
  options.jail = JailFor(spec_.runtime, spec_.state_dir, taps, spec_.mem_mib);  // HULL_JAILER=off: none
  if (options.jail) {
    for (const auto& share : spec_.shares) options.jail->share_dirs.push_back(share.path);
  }
  options.extra_args = ConfinementArgs(spec_.runtime.confinement);              // --seccomp
  options.log_note = spec_.runtime.confinement.note;
  options.ready_timeout = spec_.vmm_timeout;
  process_ = std::make_unique<VmmProcess>(options);
  api_ = std::make_unique<VmmClient>(options.api_socket, spec_.vmm_timeout);
  api_->SetFileHook([vmm = process_.get()](const fs::path& file) { vmm->ExposeFile(file); });

  api_->Put("/machine-config", {{"vcpu_count", spec_.vcpus}, {"mem_size_mib", spec_.mem_mib}});
  api_->Put("/boot-source", {{"kernel_image_path", spec_.runtime.kernel.string()},
                             {"initrd_path", spec_.runtime.initrd.string()},
                             {"boot_args", DefaultBootArgs()}});
  for (const auto& d : spec_.drives) {
    api_->Put("/drives/" + d.id, {{"drive_id", d.id},
                                  {"path_on_host", d.path.string()},
                                  {"is_root_device", false},
                                  {"is_read_only", d.read_only}});
  }
  for (const auto& share : spec_.shares) {
    api_->Put("/fs/" + share.tag, {{"tag", share.tag}, {"path", share.path.string()}, {"read_only", false}});
  }
  for (const auto& n : spec_.nets) {
    nlohmann::json body = {{"iface_id", n.id}, {"host_dev_name", n.tap}};
    if (!n.guest_mac.empty()) body["guest_mac"] = n.guest_mac;
    api_->Put("/network-interfaces/" + n.id, body);
  }
  process_->PrepareSocketPath(vsock_socket());  // a link into the jail, if there is one
  api_->Put("/vsock", {{"guest_cid", kGuestCid}, {"uds_path", vsock_socket().string()}});
  if (spec_.free_page_reporting) {
    // Target 0: nothing is taken from the guest; deflate_on_oom keeps it so
    // should a target ever be set through the API.
    api_->Put("/balloon", {{"amount_mib", 0}, {"deflate_on_oom", true}, {"free_page_reporting", true}});
  }
  api_->Put("/actions", {{"action_type", "InstanceStart"}});
}

MicroVm::~MicroVm() {
  process_.reset();  // kills the VMM if it still runs
  std::error_code ec;
  fs::remove(vsock_socket(), ec);
}

UniqueFd MicroVm::DialGuest(uint32_t port, std::chrono::steady_clock::time_point deadline) {
  std::string last_error;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto status = process_->WaitForExit(std::chrono::milliseconds(0))) {
      throw SandboxError("the microVM stopped (hull-vmm exit status " + std::to_string(*status) +
                         ") before its agent answered; VMM log:\n" + process_->LogTail());
    }
    try {
      return DialGuestPortOnce(vsock_socket(), port, std::chrono::seconds(2));
    } catch (const SandboxError& e) {
      last_error = e.what();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw SandboxError("the guest agent did not answer on vsock port " + std::to_string(port) +
                     " in time (" + last_error + "); VMM log:\n" + process_->LogTail());
}

int MicroVm::WaitForShutdown(std::chrono::milliseconds timeout) {
  if (auto status = process_->WaitForExit(timeout)) return *status;
  process_->Kill();
  return process_->WaitForExit(std::chrono::milliseconds(0)).value_or(-1);
}

}  // namespace hull::shim
