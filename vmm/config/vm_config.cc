#include "config/vm_config.h"

#include <algorithm>

#include "config/field_reader.h"

namespace hull::vmm::config {
namespace {

using nlohmann::json;

void RequireOneOf(FieldReader& reader, const std::string& field, const std::string& value,
                  std::initializer_list<const char*> allowed) {
  std::string list;
  for (const char* a : allowed) {
    if (value == a) return;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  reader.Fail(field, "'" + value + "' is not one of: " + list);
}

void RequireNonEmpty(FieldReader& reader, const std::string& field, const std::string& value) {
  if (value.empty()) reader.Fail(field, "must not be empty");
}

bool IsMac(const std::string& mac) {
  if (mac.size() != 17) return false;
  for (size_t i = 0; i < mac.size(); ++i) {
    if (i % 3 == 2) {
      if (mac[i] != ':') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(mac[i]))) {
      return false;
    }
  }
  return true;
}

void ReadMachineFields(FieldReader& r, MachineConfig& m, bool required) {
  auto vcpus = required ? std::optional<uint64_t>(r.RequiredUnsigned("vcpu_count"))
                        : r.Unsigned("vcpu_count");
  if (vcpus) {
    if (*vcpus == 0) r.Fail("vcpu_count", "must be at least 1");
    if (*vcpus > 255)
      r.Fail("vcpu_count", std::to_string(*vcpus) + " is more than hull supports (255)");
    m.vcpu_count = static_cast<uint32_t>(*vcpus);
  }
  auto mem = required ? std::optional<uint64_t>(r.RequiredUnsigned("mem_size_mib"))
                      : r.Unsigned("mem_size_mib");
  if (mem) {
    if (*mem == 0)
      r.Fail("mem_size_mib", "must be at least 1 (MiB); a Linux guest wants 64 or more");
    if (*mem > (uint64_t{1} << 30)) r.Fail("mem_size_mib", "is absurdly large");
    m.mem_size_mib = *mem;
  }
  if (auto smt = r.Bool("smt")) {
    if (*smt) r.Fail("smt", "true is not supported by hull (no SMT topology); use false");
    m.smt = false;
  }
  if (auto track = r.Bool("track_dirty_pages")) {
    if (*track)
      r.Fail("track_dirty_pages", "true is not supported by hull (no snapshots); use false");
  }
  if (auto huge = r.String("huge_pages")) {
    RequireOneOf(r, "huge_pages", *huge, {"None", "2M"});
    m.huge_pages = *huge == "2M" ? HugePages::k2M : HugePages::kNone;
    if (m.huge_pages == HugePages::k2M && m.mem_size_mib % 2 != 0) {
      r.Fail("mem_size_mib", "must be a multiple of 2 with huge_pages 2M");
    }
  }
  r.Unsupported("cpu_template", "hull shows the guest KVM's supported CPUID");
  r.RejectUnknown();
}

}  // namespace

BootSourceConfig ParseBootSource(const json& object) {
  FieldReader r(object, "boot-source", {"kernel_image_path", "initrd_path", "boot_args"});
  BootSourceConfig b;
  b.kernel_image_path = r.RequiredString("kernel_image_path");
  RequireNonEmpty(r, "kernel_image_path", b.kernel_image_path);
  b.initrd_path = r.String("initrd_path");
  if (b.initrd_path) RequireNonEmpty(r, "initrd_path", *b.initrd_path);
  b.boot_args = r.String("boot_args");
  r.RejectUnknown();
  return b;
}

MachineConfig ParseMachineConfig(const json& object) {
  FieldReader r(
      object, "machine-config",
      {"vcpu_count", "mem_size_mib", "smt", "track_dirty_pages", "huge_pages", "cpu_template"});
  MachineConfig m;
  ReadMachineFields(r, m, true);
  return m;
}

MachineConfig PatchMachineConfig(const json& object, MachineConfig base) {
  FieldReader r(
      object, "machine-config",
      {"vcpu_count", "mem_size_mib", "smt", "track_dirty_pages", "huge_pages", "cpu_template"});
  ReadMachineFields(r, base, false);
  return base;
}

DriveConfig ParseDrive(const json& object) {
  FieldReader r(object, "drives",
                {"drive_id", "path_on_host", "is_root_device", "is_read_only", "partuuid",
                 "cache_type", "io_engine", "rate_limiter", "socket"});
  DriveConfig d;
  d.drive_id = r.RequiredString("drive_id");
  RequireNonEmpty(r, "drive_id", d.drive_id);
  d.path_on_host = r.RequiredString("path_on_host");
  RequireNonEmpty(r, "path_on_host", d.path_on_host);
  d.is_root_device = r.RequiredBool("is_root_device");
  d.is_read_only = r.Bool("is_read_only").value_or(false);
  d.partuuid = r.String("partuuid");
  if (auto cache = r.String("cache_type")) {
    RequireOneOf(r, "cache_type", *cache, {"Unsafe", "Writeback"});
    d.cache_type = *cache;
  }
  if (auto engine = r.String("io_engine")) {
    RequireOneOf(r, "io_engine", *engine, {"Sync", "Async"});
    d.io_engine = *engine;
  }
  r.Unsupported("rate_limiter", "no I/O rate limiting");
  r.Unsupported("socket", "no vhost-user block devices");
  r.RejectUnknown();
  return d;
}

FsConfig ParseFs(const json& object) {
  FieldReader r(object, "fs", {"tag", "path", "read_only"});
  FsConfig f;
  f.tag = r.RequiredString("tag");
  RequireNonEmpty(r, "tag", f.tag);
  if (f.tag.size() > kMaxFsTagBytes)
    r.Fail("tag", "'" + f.tag + "' is longer than " + std::to_string(kMaxFsTagBytes) + " bytes: pick a shorter one");
  if (f.tag.find_first_of(std::string("/\0", 2)) != std::string::npos)
    r.Fail("tag", "must not contain '/' or NUL");
  f.path = r.RequiredString("path");
  RequireNonEmpty(r, "path", f.path);
  if (f.path.front() != '/') r.Fail("path", "'" + f.path + "' must be an absolute path to a host directory");
  f.read_only = r.Bool("read_only").value_or(false);
  r.RejectUnknown();
  return f;
}

FsConfig ParseFsFlag(const std::string& flag) {
  json object = json::object();
  size_t start = 0;
  while (start <= flag.size()) {
    const size_t comma = std::min(flag.find(',', start), flag.size());
    const std::string item = flag.substr(start, comma - start);
    const size_t eq = item.find('=');
    if (item == "readonly") {
      object["read_only"] = true;
    } else if (eq != std::string::npos && (item.substr(0, eq) == "tag" || item.substr(0, eq) == "path")) {
      object[item.substr(0, eq)] = item.substr(eq + 1);
    } else {
      throw ConfigError("--fs '" + flag + "': '" + item +
                        "' is not tag=<tag>, path=<dir> or readonly (e.g. --fs tag=share,path=/srv/share)");
    }
    start = comma + 1;
  }
  return ParseFs(object);
}

void AddFs(VmConfig& config, FsConfig fs) {
  if (std::any_of(config.fs.begin(), config.fs.end(), [&](auto& x) { return x.tag == fs.tag; }))
    throw ConfigError("fs: tag '" + fs.tag + "' appears twice: every share needs its own tag");
  config.fs.push_back(std::move(fs));
}

NetworkInterfaceConfig ParseNetworkInterface(const json& object) {
  FieldReader r(object, "network-interfaces",
                {"iface_id", "host_dev_name", "guest_mac", "rx_rate_limiter", "tx_rate_limiter"});
  NetworkInterfaceConfig n;
  n.iface_id = r.RequiredString("iface_id");
  RequireNonEmpty(r, "iface_id", n.iface_id);
  n.host_dev_name = r.RequiredString("host_dev_name");
  RequireNonEmpty(r, "host_dev_name", n.host_dev_name);
  n.guest_mac = r.String("guest_mac");
  if (n.guest_mac && !IsMac(*n.guest_mac))
    r.Fail("guest_mac", "'" + *n.guest_mac + "' is not a MAC like 06:00:ac:10:00:02");
  r.Unsupported("rx_rate_limiter", "no network rate limiting");
  r.Unsupported("tx_rate_limiter", "no network rate limiting");
  r.RejectUnknown();
  return n;
}

VsockConfig ParseVsock(const json& object) {
  FieldReader r(object, "vsock", {"vsock_id", "guest_cid", "uds_path"});
  VsockConfig v;
  r.String("vsock_id");  // accepted for compatibility; there is only one vsock device
  const uint64_t cid = r.RequiredUnsigned("guest_cid");
  if (cid < 3 || cid > 0xffffffffu)
    r.Fail("guest_cid", "must be between 3 and 4294967295 (0-2 are reserved)");
  v.guest_cid = static_cast<uint32_t>(cid);
  v.uds_path = r.RequiredString("uds_path");
  RequireNonEmpty(r, "uds_path", v.uds_path);
  r.RejectUnknown();
  return v;
}

LoggerConfig ParseLogger(const json& object) {
  FieldReader r(object, "logger", {"log_path", "level", "show_level", "show_log_origin", "module"});
  LoggerConfig l;
  l.log_path = r.String("log_path");
  l.level = r.String("level");
  if (l.level)
    RequireOneOf(r, "level", *l.level,
                 {"Error", "Warning", "Warn", "Info", "Debug", "Trace", "Off"});
  l.show_level = r.Bool("show_level").value_or(false);
  l.show_log_origin = r.Bool("show_log_origin").value_or(false);
  r.Unsupported("module", "no per-module log filter");
  r.RejectUnknown();
  return l;
}

MetricsConfig ParseMetrics(const json& object) {
  FieldReader r(object, "metrics", {"metrics_path"});
  MetricsConfig m;
  m.metrics_path = r.RequiredString("metrics_path");
  RequireNonEmpty(r, "metrics_path", m.metrics_path);
  r.RejectUnknown();
  return m;
}

EntropyConfig ParseEntropy(const json& object) {
  FieldReader r(object, "entropy", {"rate_limiter"});
  r.Unsupported("rate_limiter", "no entropy rate limiting");
  r.RejectUnknown();
  return {};
}

namespace {

uint32_t BalloonAmount(FieldReader& r, uint64_t amount) {
  if (amount > 0xffffffffu / 256) r.Fail("amount_mib", "is too large (at most 16777215 MiB)");
  return static_cast<uint32_t>(amount);
}

}  // namespace

BalloonConfig ParseBalloon(const json& object) {
  FieldReader r(object, "balloon",
                {"amount_mib", "deflate_on_oom", "stats_polling_interval_s", "free_page_hinting",
                 "free_page_reporting"});
  BalloonConfig b;
  b.amount_mib = BalloonAmount(r, r.RequiredUnsigned("amount_mib"));
  b.deflate_on_oom = r.RequiredBool("deflate_on_oom");
  if (r.Unsigned("stats_polling_interval_s").value_or(0) != 0)
    r.Fail("stats_polling_interval_s", "balloon statistics are not implemented: leave it out or set it to 0");
  if (r.Bool("free_page_hinting").value_or(false))
    r.Fail("free_page_hinting", "is not implemented: use free_page_reporting, which returns free memory by itself");
  b.free_page_reporting = r.Bool("free_page_reporting").value_or(false);
  r.RejectUnknown();
  return b;
}

uint32_t ParseBalloonUpdate(const json& object) {
  FieldReader r(object, "balloon", {"amount_mib"});
  const uint32_t amount = BalloonAmount(r, r.RequiredUnsigned("amount_mib"));
  r.RejectUnknown();
  return amount;
}

void ValidateBalloonTarget(uint32_t amount_mib, const MachineConfig& machine) {
  if (amount_mib > machine.mem_size_mib) {
    throw ConfigError("balloon.amount_mib: " + std::to_string(amount_mib) + " MiB is more than the guest's " +
                      std::to_string(machine.mem_size_mib) + " MiB (machine-config.mem_size_mib)");
  }
}

VmConfig ParseVmConfigFile(const std::string& text) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e400
    throw ConfigError(std::string("config file is not valid JSON: ") + e.what());
  }
  FieldReader r(root, "config file",
                {"boot-source", "machine-config", "drives", "network-interfaces", "vsock", "logger",
                 "metrics", "balloon", "mmds-config", "entropy", "cpu-config", "fs"});
  VmConfig config;
  const json* boot = r.Raw("boot-source");
  if (boot == nullptr) r.Fail("boot-source", "is required (the kernel to boot)");
  config.boot_source = ParseBootSource(*boot);
  if (const json* machine = r.Raw("machine-config"))
    config.machine_config = ParseMachineConfig(*machine);
  auto each = [&](const char* field, auto&& parse) {
    if (const json* list = r.Raw(field)) {
      if (!list->is_array()) r.Fail(field, "expected a JSON array");
      for (const auto& item : *list) parse(item);
    }
  };
  each("drives", [&](const json& item) {
    DriveConfig d = ParseDrive(item);
    if (std::any_of(config.drives.begin(), config.drives.end(),
                    [&](auto& x) { return x.drive_id == d.drive_id; })) {
      throw ConfigError("drives: drive_id '" + d.drive_id + "' appears twice");
    }
    config.drives.push_back(std::move(d));
  });
  each("network-interfaces", [&](const json& item) {
    NetworkInterfaceConfig n = ParseNetworkInterface(item);
    if (std::any_of(config.network_interfaces.begin(), config.network_interfaces.end(),
                    [&](auto& x) { return x.iface_id == n.iface_id; })) {
      throw ConfigError("network-interfaces: iface_id '" + n.iface_id + "' appears twice");
    }
    config.network_interfaces.push_back(std::move(n));
  });
  each("fs", [&](const json& item) { AddFs(config, ParseFs(item)); });
  if (const json* vsock = r.Raw("vsock")) config.vsock = ParseVsock(*vsock);
  if (const json* entropy = r.Raw("entropy")) config.entropy = ParseEntropy(*entropy);
  if (const json* balloon = r.Raw("balloon")) {
    config.balloon = ParseBalloon(*balloon);
    ValidateBalloonTarget(config.balloon->amount_mib, config.machine_config);
  }
  if (const json* logger = r.Raw("logger")) config.logger = ParseLogger(*logger);
  if (const json* metrics = r.Raw("metrics")) config.metrics = ParseMetrics(*metrics);
  for (const char* field : {"mmds-config", "cpu-config"}) {
    r.Unsupported(field, "not implemented yet");
  }
  r.RejectUnknown();
  return config;
}

void ValidateMachineConfig(const MachineConfig& machine, const HostLimits& limits) {
  if (limits.max_vcpus > 0 && machine.vcpu_count > limits.max_vcpus) {
    throw ConfigError("machine-config.vcpu_count: " + std::to_string(machine.vcpu_count) +
                      " is more than KVM allows (" + std::to_string(limits.max_vcpus) + ")");
  }
  if (limits.max_mem_mib > 0 && machine.mem_size_mib > limits.max_mem_mib) {
    throw ConfigError("machine-config.mem_size_mib: " + std::to_string(machine.mem_size_mib) +
                      " MiB is more than this host has (" + std::to_string(limits.max_mem_mib) +
                      " MiB)");
  }
}

void UpsertDrive(VmConfig& config, DriveConfig drive) {
  for (auto& d : config.drives) {
    if (d.drive_id == drive.drive_id) {
      d = std::move(drive);
      return;
    }
  }
  config.drives.push_back(std::move(drive));
}

void UpsertNetworkInterface(VmConfig& config, NetworkInterfaceConfig iface) {
  for (auto& n : config.network_interfaces) {
    if (n.iface_id == iface.iface_id) {
      n = std::move(iface);
      return;
    }
  }
  config.network_interfaces.push_back(std::move(iface));
}

void UpsertFs(VmConfig& config, FsConfig fs) {
  for (auto& f : config.fs) {
    if (f.tag == fs.tag) {
      f = std::move(fs);
      return;
    }
  }
  config.fs.push_back(std::move(fs));
}

json ToJson(const VmConfig& c) {
  json out = json::object();
  if (c.boot_source) {
    json b = {{"kernel_image_path", c.boot_source->kernel_image_path}};
    if (c.boot_source->initrd_path) b["initrd_path"] = *c.boot_source->initrd_path;
    if (c.boot_source->boot_args) b["boot_args"] = *c.boot_source->boot_args;
    out["boot-source"] = b;
  }
  out["machine-config"] = {
      {"vcpu_count", c.machine_config.vcpu_count},
      {"mem_size_mib", c.machine_config.mem_size_mib},
      {"smt", c.machine_config.smt},
      {"track_dirty_pages", c.machine_config.track_dirty_pages},
      {"huge_pages", c.machine_config.huge_pages == HugePages::k2M ? "2M" : "None"}};
  out["drives"] = json::array();
  for (const auto& d : c.drives) {
    json j = {{"drive_id", d.drive_id},
              {"path_on_host", d.path_on_host},
              {"is_root_device", d.is_root_device},
              {"is_read_only", d.is_read_only},
              {"cache_type", d.cache_type},
              {"io_engine", d.io_engine}};
    if (d.partuuid) j["partuuid"] = *d.partuuid;
    out["drives"].push_back(j);
  }
  out["network-interfaces"] = json::array();
  for (const auto& n : c.network_interfaces) {
    json j = {{"iface_id", n.iface_id}, {"host_dev_name", n.host_dev_name}};
    if (n.guest_mac) j["guest_mac"] = *n.guest_mac;
    out["network-interfaces"].push_back(j);
  }
  if (c.vsock) out["vsock"] = {{"guest_cid", c.vsock->guest_cid}, {"uds_path", c.vsock->uds_path}};
  if (c.entropy) out["entropy"] = json::object();
  if (!c.fs.empty()) {
    out["fs"] = json::array();
    for (const auto& f : c.fs) out["fs"].push_back({{"tag", f.tag}, {"path", f.path}, {"read_only", f.read_only}});
  }
  if (c.balloon) {
    out["balloon"] = {{"amount_mib", c.balloon->amount_mib},
                      {"deflate_on_oom", c.balloon->deflate_on_oom},
                      {"stats_polling_interval_s", 0},
                      {"free_page_reporting", c.balloon->free_page_reporting}};
  }
  if (c.logger) {
    json l = {{"show_level", c.logger->show_level}, {"show_log_origin", c.logger->show_log_origin}};
    if (c.logger->log_path) l["log_path"] = *c.logger->log_path;
    if (c.logger->level) l["level"] = *c.logger->level;
    out["logger"] = l;
  }
  if (c.metrics) out["metrics"] = {{"metrics_path", c.metrics->metrics_path}};
  return out;
}

}  // namespace hull::vmm::config
