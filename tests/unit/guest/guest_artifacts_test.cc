// Checks the guest artifacts this build tree produced (guest/<arch>/): the
// kernel's final .config holds every option hull needs (parsed, not grepped),
// the kernel images have the right format, and the initramfs holds exactly the
// configured /init.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "command.h"
#include "cpio_reader.h"
#include "kconfig_parser.h"

namespace hull::guest_test {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = HULL_SOURCE_DIR;
const fs::path kGuestRoot = HULL_GUEST_ROOT;

std::vector<std::string> TestedArches() {
  std::istringstream in(HULL_GUEST_TEST_ARCHES);
  std::vector<std::string> arches;
  for (std::string arch; in >> arch;) arches.push_back(arch);
  return arches;
}

std::string InitFileFor(const std::string& arch) {
  return arch == "x86_64" ? HULL_GUEST_INIT_FILE_x86_64 : HULL_GUEST_INIT_FILE_aarch64;
}

// hull's own list of must-haves, independent of the fragments, so that
// deleting a line from a fragment by mistake fails here.
const std::vector<std::pair<std::string, std::optional<std::string>>> kCommonMustHave = {
    {"CONFIG_VIRTIO_MMIO", "y"},
    {"CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES", "y"},
    {"CONFIG_VIRTIO_BLK", "y"},
    {"CONFIG_VIRTIO_NET", "y"},
    {"CONFIG_VSOCKETS", "y"},
    {"CONFIG_VIRTIO_VSOCKETS", "y"},
    {"CONFIG_VIRTIO_CONSOLE", "y"},
    {"CONFIG_HW_RANDOM_VIRTIO", "y"},
    {"CONFIG_BLK_DEV_INITRD", "y"},
    {"CONFIG_RD_LZ4", "y"},
    {"CONFIG_DEVTMPFS", "y"},
    {"CONFIG_DEVMEM", "y"},
    {"CONFIG_PRINTK", "y"},
    {"CONFIG_PANIC_TIMEOUT", "-1"},
    {"CONFIG_UNIX98_PTYS", "y"},
    {"CONFIG_TMPFS", "y"},
    {"CONFIG_PID_NS", "y"},
    {"CONFIG_NET_NS", "y"},
    {"CONFIG_UTS_NS", "y"},
    {"CONFIG_IPC_NS", "y"},
    {"CONFIG_SYSVIPC", "y"},
    {"CONFIG_USER_NS", "y"},
    {"CONFIG_CGROUPS", "y"},
    {"CONFIG_MEMCG", "y"},
    {"CONFIG_CGROUP_PIDS", "y"},
    {"CONFIG_CGROUP_SCHED", "y"},
    {"CONFIG_BLK_CGROUP", "y"},
    {"CONFIG_PSI", "y"},
    {"CONFIG_SECCOMP_FILTER", "y"},
    {"CONFIG_OVERLAY_FS", "y"},
    {"CONFIG_EROFS_FS", "y"},
    {"CONFIG_EXT4_FS", "y"},
    {"CONFIG_INET", "y"},
    {"CONFIG_IPV6", "y"},
    {"CONFIG_VETH", "y"},
    {"CONFIG_BRIDGE", "y"},
    {"CONFIG_TUN", "y"},
    {"CONFIG_NETFILTER", "y"},
    {"CONFIG_FUSE_FS", "y"},
    {"CONFIG_VIRTIO_FS", "y"},
    {"CONFIG_MODULES", std::nullopt},
    {"CONFIG_PCI", std::nullopt},
    {"CONFIG_ACPI", std::nullopt},
    {"CONFIG_USB_SUPPORT", std::nullopt},
    {"CONFIG_SOUND", std::nullopt},
    {"CONFIG_DRM", std::nullopt},
};
const std::vector<std::pair<std::string, std::optional<std::string>>> kX86MustHave = {
    {"CONFIG_64BIT", "y"},       {"CONFIG_X86_64", "y"},
    {"CONFIG_SERIAL_8250", "y"}, {"CONFIG_SERIAL_8250_CONSOLE", "y"},
    {"CONFIG_KVM_GUEST", "y"},   {"CONFIG_X86_MPPARSE", "y"},
};
const std::vector<std::pair<std::string, std::optional<std::string>>> kArm64MustHave = {
    {"CONFIG_ARM64", "y"},
    {"CONFIG_SERIAL_AMBA_PL011", "y"},
    {"CONFIG_SERIAL_AMBA_PL011_CONSOLE", "y"},
    {"CONFIG_ARM_GIC_V3", "y"},
    {"CONFIG_ARM_PSCI_FW", "y"},
    {"CONFIG_OF", "y"},
};

class GuestArtifactsTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::string arch() const { return GetParam(); }
  fs::path Dir() const { return kGuestRoot / arch(); }
  KconfigOptions Config() const { return LoadKconfig((Dir() / "config").string()); }
};

TEST_P(GuestArtifactsTest, ConfigHasEveryOptionHullNeeds) {
  const auto config = Config();
  auto must = kCommonMustHave;
  const auto& extra = arch() == "x86_64" ? kX86MustHave : kArm64MustHave;
  must.insert(must.end(), extra.begin(), extra.end());
  for (const auto& [name, want] : must)
    EXPECT_EQ(Lookup(config, name), want) << name << " in " << (Dir() / "config");
}

TEST_P(GuestArtifactsTest, ConfigHasEveryOptionTheFragmentsRequest) {
  const auto config = Config();
  std::vector<fs::path> fragments;
  for (const char* name : {"base", "virtio", "containers", "filesystems", "networking"})
    fragments.push_back(kSource / "kernel-config/fragments" / (std::string(name) + ".config"));
  fragments.push_back(kSource / "kernel-config/fragments" / (arch() + ".config"));
  size_t checked = 0;
  for (const auto& fragment : fragments) {
    for (const auto& [name, want] : LoadKconfig(fragment.string())) {
      EXPECT_EQ(Lookup(config, name), want) << name << " requested by " << fragment;
      ++checked;
    }
  }
  EXPECT_GT(checked, 100u);
}

TEST_P(GuestArtifactsTest, KernelImagesHaveTheirFormat) {
  if (arch() == "x86_64") {
    const std::string bz = ReadFile(Dir() / "bzImage");
    ASSERT_GT(bz.size(), 0x210u);
    EXPECT_EQ(bz.substr(0x202, 4), "HdrS") << "bzImage lacks the x86 boot protocol header";
    const std::string elf = ReadFile(Dir() / "vmlinux");
    ASSERT_GT(elf.size(), 64u);
    EXPECT_EQ(elf.substr(0, 4),
              "\x7f"
              "ELF");
    EXPECT_EQ(elf[4], 2) << "vmlinux is not ELF64";
    EXPECT_EQ(static_cast<unsigned char>(elf[18]), 62u) << "vmlinux is not x86-64 (EM_X86_64)";
  } else {
    const std::string image = ReadFile(Dir() / "Image");
    ASSERT_GT(image.size(), 64u);
    EXPECT_EQ(image.substr(56, 4), "ARM\x64") << "Image lacks the arm64 boot header magic";
  }
}

TEST_P(GuestArtifactsTest, InitramfsHoldsExactlyTheConfiguredInit) {
  const auto plain = RunCommand("lz4 -d -c " + ShellQuote((Dir() / "initramfs.cpio.lz4").string()));
  ASSERT_EQ(plain.exit_status, 0);
  const auto entries = ReadCpio(plain.output);
  std::vector<std::string> names;
  for (const auto& e : entries) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"dev", "dev/console", "init", "proc", "sys"}));
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[2].data, ReadFile(InitFileFor(arch())));
  const std::string& init = entries[2].data;
  ASSERT_GT(init.size(), 20u);
  const unsigned machine = static_cast<unsigned char>(init[18]);
  EXPECT_EQ(machine, arch() == "x86_64" ? 62u : 183u) << "/init is built for the wrong arch";
}

INSTANTIATE_TEST_SUITE_P(Arches, GuestArtifactsTest, ::testing::ValuesIn(TestedArches()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace hull::guest_test
