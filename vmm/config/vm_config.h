// The VM description shared by the API and `--config-file`, in the shape of
// Firecracker's config file: boot-source, machine-config, drives,
// network-interfaces, vsock, logger, metrics. Parsing is strict (unknown and
// unsupported fields are errors naming them); ToJson gives GET /vm/config.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/config_error.h"

namespace hull::vmm::config {

struct BootSourceConfig {
  std::string kernel_image_path;
  std::optional<std::string> initrd_path;
  std::optional<std::string> boot_args;  // unset: hull's default command line
};

enum class HugePages { kNone, k2M };

struct MachineConfig {
  uint32_t vcpu_count = 1;
  uint64_t mem_size_mib = 128;
  bool smt = false;
  bool track_dirty_pages = false;
  HugePages huge_pages = HugePages::kNone;
};

struct DriveConfig {
  std::string drive_id;
  std::string path_on_host;
  bool is_root_device = false;
  bool is_read_only = false;
  std::optional<std::string> partuuid;
  std::string cache_type = "Unsafe";  // or "Writeback"
  std::string io_engine = "Sync";     // or "Async"
};

struct NetworkInterfaceConfig {
  std::string iface_id;
  std::string host_dev_name;
  std::optional<std::string> guest_mac;  // "aa:bb:cc:dd:ee:ff"
};

struct VsockConfig {
  uint32_t guest_cid = 3;
  std::string uds_path;
};

struct LoggerConfig {
  std::optional<std::string> log_path;
  std::optional<std::string> level;  // Error, Warning, Info, Debug, Trace, Off
  bool show_level = false;
  bool show_log_origin = false;
};

// virtio-rng ("entropy" in Firecracker's config); no fields hull supports.
struct EntropyConfig {};

struct MetricsConfig {
  std::string metrics_path;
};

// virtio-balloon, in Firecracker's shape. free_page_reporting: the guest
// reports free memory, which goes back to the host (see
// devices/virtio/virtio_balloon.h). Statistics and free page hinting are
// not implemented.
struct BalloonConfig {
  uint32_t amount_mib = 0;
  bool deflate_on_oom = false;
  bool free_page_reporting = false;
};

// virtio-fs: a host directory shared with the guest under `tag` (the
// guest mounts it with `mount -t virtiofs <tag> <dir>`). hull's own section
// ("fs" in the config file, PUT /fs/{tag}); Firecracker has none.
inline constexpr size_t kMaxFsTagBytes = 36;  // virtio_fs_config.tag
struct FsConfig {
  std::string tag;
  std::string path;
  bool read_only = false;
};

struct VmConfig {
  std::optional<BootSourceConfig> boot_source;
  MachineConfig machine_config;
  std::vector<DriveConfig> drives;
  std::vector<NetworkInterfaceConfig> network_interfaces;
  std::optional<VsockConfig> vsock;
  std::optional<EntropyConfig> entropy;
  std::optional<BalloonConfig> balloon;
  std::vector<FsConfig> fs;
  std::optional<LoggerConfig> logger;
  std::optional<MetricsConfig> metrics;
};

// What the host allows; checked when a machine config is applied.
struct HostLimits {
  uint32_t max_vcpus = 0;
  uint64_t max_mem_mib = 0;
};

// Section parsers: `object` is the JSON of one section (an API body or a
// config-file section). Throw ConfigError.
BootSourceConfig ParseBootSource(const nlohmann::json& object);
MachineConfig ParseMachineConfig(const nlohmann::json& object);
// PATCH /machine-config: fields not given keep their value in `base`.
MachineConfig PatchMachineConfig(const nlohmann::json& object, MachineConfig base);
DriveConfig ParseDrive(const nlohmann::json& object);
NetworkInterfaceConfig ParseNetworkInterface(const nlohmann::json& object);
VsockConfig ParseVsock(const nlohmann::json& object);
LoggerConfig ParseLogger(const nlohmann::json& object);
MetricsConfig ParseMetrics(const nlohmann::json& object);
EntropyConfig ParseEntropy(const nlohmann::json& object);
BalloonConfig ParseBalloon(const nlohmann::json& object);
// One share: {"tag", "path", "read_only"}; the tag must be 1..36 bytes
// without '/' or NUL, the path absolute.
FsConfig ParseFs(const nlohmann::json& object);
// hull-vmm's `--fs tag=<tag>,path=<dir>[,readonly]`: same checks as ParseFs.
FsConfig ParseFsFlag(const std::string& flag);
// Adds a share whose tag is new; throws ConfigError for a tag used twice.
void AddFs(VmConfig& config, FsConfig fs);
// PATCH /balloon: only amount_mib may change on a running VM.
uint32_t ParseBalloonUpdate(const nlohmann::json& object);

// A whole config file (text). Throws ConfigError (malformed JSON included).
VmConfig ParseVmConfigFile(const std::string& text);

// Throws ConfigError when the machine does not fit the host.
void ValidateMachineConfig(const MachineConfig& machine, const HostLimits& limits);
// Throws ConfigError when the balloon asks for more than the guest has.
void ValidateBalloonTarget(uint32_t amount_mib, const MachineConfig& machine);

// Adds or replaces by id (drive_id, iface_id).
void UpsertDrive(VmConfig& config, DriveConfig drive);
void UpsertNetworkInterface(VmConfig& config, NetworkInterfaceConfig iface);
void UpsertFs(VmConfig& config, FsConfig fs);

nlohmann::json ToJson(const VmConfig& config);

}  // namespace hull::vmm::config
