// The Firecracker-shaped config file and sections: what parses, and that
// every mistake names its field.
#include "config/vm_config.h"

#include <gtest/gtest.h>

namespace hull::vmm::config {
namespace {

using nlohmann::json;

std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(VmConfig, ParsesAFirecrackerConfigFile) {
  const VmConfig c = ParseVmConfigFile(R"({
    "boot-source": {"kernel_image_path": "/k", "initrd_path": "/i", "boot_args": "console=ttyS0"},
    "machine-config": {"vcpu_count": 2, "mem_size_mib": 512, "smt": false},
    "drives": [{"drive_id": "rootfs", "path_on_host": "/r.img", "is_root_device": true, "is_read_only": true}],
    "network-interfaces": [{"iface_id": "eth0", "host_dev_name": "tap0", "guest_mac": "06:00:ac:10:00:02"}],
    "vsock": {"guest_cid": 3, "uds_path": "/v.sock"},
    "entropy": {},
    "logger": {"log_path": "/l", "level": "Debug"},
    "metrics": {"metrics_path": "/m"}
  })");
  ASSERT_TRUE(c.boot_source);
  EXPECT_EQ(c.boot_source->kernel_image_path, "/k");
  EXPECT_EQ(*c.boot_source->initrd_path, "/i");
  EXPECT_EQ(c.machine_config.vcpu_count, 2u);
  EXPECT_EQ(c.machine_config.mem_size_mib, 512u);
  ASSERT_EQ(c.drives.size(), 1u);
  EXPECT_TRUE(c.drives[0].is_read_only);
  ASSERT_EQ(c.network_interfaces.size(), 1u);
  EXPECT_EQ(*c.network_interfaces[0].guest_mac, "06:00:ac:10:00:02");
  EXPECT_EQ(c.vsock->guest_cid, 3u);
  EXPECT_TRUE(c.entropy.has_value());
  EXPECT_EQ(*c.logger->level, "Debug");
  EXPECT_EQ(c.metrics->metrics_path, "/m");
  // GET /vm/config gives the same shape back.
  const json j = ToJson(c);
  EXPECT_EQ(j["machine-config"]["vcpu_count"], 2);
  EXPECT_EQ(j["drives"][0]["drive_id"], "rootfs");
  EXPECT_EQ(ParseVmConfigFile(j.dump()).drives[0].path_on_host, "/r.img");
  EXPECT_TRUE(ParseVmConfigFile(j.dump()).entropy.has_value());
}

TEST(VmConfig, DefaultsWithOnlyABootSource) {
  const VmConfig c = ParseVmConfigFile(R"({"boot-source": {"kernel_image_path": "/k"}})");
  EXPECT_EQ(c.machine_config.vcpu_count, 1u);
  EXPECT_EQ(c.machine_config.mem_size_mib, 128u);
  EXPECT_FALSE(c.boot_source->boot_args);
}

TEST(VmConfig, ErrorsNameTheFieldAtFault) {
  EXPECT_NE(ErrorOf([] { ParseVmConfigFile("{nope"); }).find("not valid JSON"), std::string::npos);
  EXPECT_NE(ErrorOf([] { ParseVmConfigFile("{}"); }).find("boot-source"), std::string::npos);
  EXPECT_NE(ErrorOf([] {
              ParseVmConfigFile(R"({"boot-source": {"kernel_image_path": "/k"}, "bogus": 1})");
            }).find("'bogus'"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] {
              ParseVmConfigFile(R"({"boot-source": {"kernel_image_path": "/k"}, "balloon": {}})");
            }).find("balloon"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] {
              ParseBootSource(json{{"kernel_image_path", "/k"}, {"kernel_path", "/x"}});
            }).find("'kernel_path'"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] {
              ParseBootSource(json{{"kernel_image_path", 3}});
            }).find("kernel_image_path: expected a string"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] {
              ParseMachineConfig(json{{"vcpu_count", 0}, {"mem_size_mib", 128}});
            }).find("vcpu_count"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] {
              ParseMachineConfig(json{{"vcpu_count", 1}, {"mem_size_mib", 0}});
            }).find("mem_size_mib"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] {
              ParseMachineConfig(json{{"vcpu_count", -1}, {"mem_size_mib", 8}});
            }).find("negative"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] {
              ParseMachineConfig(json{{"vcpus", 1}, {"mem_size_mib", 8}});
            }).find("unknown field 'vcpus'"),
            std::string::npos)
      << "a misspelled required field is reported by the name the user wrote";
  EXPECT_NE(ErrorOf([] {
              ParseMachineConfig(json{{"vcpu_count", 1}});
            }).find("mem_size_mib: is required"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf([] {
        ParseMachineConfig(json{{"vcpu_count", 1}, {"mem_size_mib", 8}, {"cpu_template", "T2"}});
      }).find("cpu_template"),
      std::string::npos);
  EXPECT_NE(ErrorOf([] {
              ParseMachineConfig(json{{"vcpu_count", 1}, {"mem_size_mib", 8}, {"smt", true}});
            }).find("smt"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] {
              ParseDrive(json{{"drive_id", "a"},
                              {"path_on_host", "/p"},
                              {"is_root_device", false},
                              {"rate_limiter", json::object()}});
            }).find("rate_limiter"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf([] {
        ParseNetworkInterface(json{{"iface_id", "e"}, {"host_dev_name", "t"}, {"guest_mac", "zz"}});
      }).find("guest_mac"),
      std::string::npos);
  EXPECT_NE(ErrorOf([] {
              ParseVsock(json{{"guest_cid", 2}, {"uds_path", "/v"}});
            }).find("guest_cid"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] {
              ParseVmConfigFile(R"({"boot-source": {"kernel_image_path": "/k"}, "drives": [
      {"drive_id": "a", "path_on_host": "/p", "is_root_device": true},
      {"drive_id": "a", "path_on_host": "/q", "is_root_device": false}]})");
            }).find("appears twice"),
            std::string::npos);
}

TEST(VmConfig, BalloonInFirecrackersShape) {
  const VmConfig c = ParseVmConfigFile(R"({"boot-source": {"kernel_image_path": "/k"},
    "machine-config": {"vcpu_count": 1, "mem_size_mib": 256},
    "balloon": {"amount_mib": 64, "deflate_on_oom": true, "stats_polling_interval_s": 0,
                "free_page_reporting": true}})");
  ASSERT_TRUE(c.balloon);
  EXPECT_EQ(c.balloon->amount_mib, 64u);
  EXPECT_TRUE(c.balloon->deflate_on_oom);
  EXPECT_TRUE(c.balloon->free_page_reporting);
  const VmConfig again = ParseVmConfigFile(ToJson(c).dump());
  ASSERT_TRUE(again.balloon);
  EXPECT_EQ(again.balloon->amount_mib, 64u);
  EXPECT_TRUE(again.balloon->free_page_reporting);
  // Firecracker's defaults: no reporting unless asked for.
  EXPECT_FALSE(ParseBalloon(json{{"amount_mib", 0}, {"deflate_on_oom", false}}).free_page_reporting);
}

TEST(VmConfig, BalloonErrorsNameTheField) {
  EXPECT_NE(ErrorOf([] { ParseBalloon(json{{"deflate_on_oom", false}}); }).find("amount_mib"), std::string::npos);
  EXPECT_NE(ErrorOf([] { ParseBalloon(json{{"amount_mib", 0}}); }).find("deflate_on_oom"), std::string::npos);
  EXPECT_NE(ErrorOf([] {
              ParseBalloon(json{{"amount_mib", 0}, {"deflate_on_oom", false}, {"stats_polling_interval_s", 1}});
            }).find("stats_polling_interval_s"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] {
              ParseBalloon(json{{"amount_mib", 0}, {"deflate_on_oom", false}, {"free_page_hinting", true}});
            }).find("free_page_hinting"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] { ParseBalloon(json{{"amount_mib", 1ull << 40}, {"deflate_on_oom", false}}); })
                .find("too large"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] {
              ParseVmConfigFile(R"({"boot-source": {"kernel_image_path": "/k"},
                "machine-config": {"vcpu_count": 1, "mem_size_mib": 128}, "balloon": {"amount_mib": 200, "deflate_on_oom": false}})");
            }).find("more than the guest's 128 MiB"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] { ParseBalloonUpdate(json{{"amount_mib", 1}, {"deflate_on_oom", true}}); })
                .find("'deflate_on_oom'"),
            std::string::npos);
  EXPECT_EQ(ParseBalloonUpdate(json{{"amount_mib", 7}}), 7u);
}

TEST(VmConfig, PatchKeepsFieldsNotGiven) {
  MachineConfig base;
  base.vcpu_count = 4;
  base.mem_size_mib = 256;
  const MachineConfig patched = PatchMachineConfig(json{{"mem_size_mib", 1024}}, base);
  EXPECT_EQ(patched.vcpu_count, 4u);
  EXPECT_EQ(patched.mem_size_mib, 1024u);
}

TEST(VmConfig, HostLimits) {
  MachineConfig m;
  m.vcpu_count = 8;
  m.mem_size_mib = 1024;
  EXPECT_NO_THROW(ValidateMachineConfig(m, {8, 1024}));
  EXPECT_NE(ErrorOf([&] {
              ValidateMachineConfig(m, {4, 4096});
            }).find("more than KVM allows"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] {
              ValidateMachineConfig(m, {8, 512});
            }).find("more than this host has"),
            std::string::npos);
}

TEST(VmConfig, UpsertReplacesById) {
  VmConfig c;
  auto drive = [](const char* id, const char* path) {
    DriveConfig d;
    d.drive_id = id;
    d.path_on_host = path;
    return d;
  };
  UpsertDrive(c, drive("a", "/1"));
  UpsertDrive(c, drive("b", "/2"));
  UpsertDrive(c, drive("a", "/3"));
  ASSERT_EQ(c.drives.size(), 2u);
  EXPECT_EQ(c.drives[0].path_on_host, "/3");
}

}  // namespace
}  // namespace hull::vmm::config
