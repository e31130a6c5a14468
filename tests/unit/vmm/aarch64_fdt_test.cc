// The arm64 device tree, parsed back with libfdt: every node and property the
// guest kernel reads.
#include <gtest/gtest.h>
#include <libfdt.h>

#include <cstring>
#include <string>
#include <vector>

#include "arch/aarch64/fdt_builder.h"
#include "arch/aarch64/layout.h"
#include "arch/arch.h"

namespace hull::vmm::aarch64 {
namespace {

FdtInputs TwoCpuInputs() {
  FdtInputs in;
  in.ram_base = kDramStart;
  in.ram_size = 256 * kMiB;
  in.cpu_mpidrs = {0x80000000, 0x80000001};  // bit 31 (RES1) as KVM reports it
  in.gic = ComputeGicLayout(2);
  in.uart = {kPl011Base, kPl011Size, kPl011Spi};
  in.virtio = {{kVirtioMmioBase, 0x1000, 1}, {kVirtioMmioBase + 0x1000, 0x1000, 2}};
  in.bootargs = "console=ttyAMA0 reboot=k panic=1";
  in.initrd_start = kDramStart + 200 * kMiB;
  in.initrd_end = kDramStart + 210 * kMiB + 17;
  return in;
}

class Fdt {
 public:
  explicit Fdt(std::vector<uint8_t> blob) : blob_(std::move(blob)) {}
  const void* data() const { return blob_.data(); }
  int Node(const std::string& path) const {
    int off = fdt_path_offset(data(), path.c_str());
    EXPECT_GE(off, 0) << "no node " << path;
    return off;
  }
  std::vector<uint8_t> Prop(const std::string& path, const char* name) const {
    int len = 0;
    auto* p = static_cast<const uint8_t*>(fdt_getprop(data(), Node(path), name, &len));
    if (p == nullptr) {
      ADD_FAILURE() << path << " has no property " << name;
      return {};
    }
    return {p, p + len};
  }
  bool Has(const std::string& path, const char* name) const {
    return fdt_getprop(data(), Node(path), name, nullptr) != nullptr;
  }
  std::string String(const std::string& path, const char* name) const {
    auto v = Prop(path, name);
    if (v.empty() || v.back() != '\0') return "<not a string>";
    return std::string(v.begin(), v.end() - 1);
  }
  // A string list, with '\0' separators shown as '|'.
  std::string Strings(const std::string& path, const char* name) const {
    auto v = Prop(path, name);
    std::string s(v.begin(), v.end());
    if (!s.empty()) s.pop_back();
    for (char& c : s)
      if (c == '\0') c = '|';
    return s;
  }
  std::vector<uint32_t> Cells(const std::string& path, const char* name) const {
    auto v = Prop(path, name);
    EXPECT_EQ(v.size() % 4, 0u) << path << " " << name;
    std::vector<uint32_t> out;
    for (size_t i = 0; i + 4 <= v.size(); i += 4) {
      fdt32_t be;
      std::memcpy(&be, v.data() + i, 4);
      out.push_back(fdt32_to_cpu(be));
    }
    return out;
  }
  std::vector<uint64_t> U64s(const std::string& path, const char* name) const {
    auto v = Prop(path, name);
    EXPECT_EQ(v.size() % 8, 0u) << path << " " << name;
    std::vector<uint64_t> out;
    for (size_t i = 0; i + 8 <= v.size(); i += 8) {
      fdt64_t be;
      std::memcpy(&be, v.data() + i, 8);
      out.push_back(fdt64_to_cpu(be));
    }
    return out;
  }
  uint32_t U32(const std::string& path, const char* name) const {
    auto c = Cells(path, name);
    EXPECT_EQ(c.size(), 1u) << path << " " << name;
    return c.empty() ? 0 : c[0];
  }
  // Names of the children of `path`, in order.
  std::vector<std::string> Children(const std::string& path) const {
    std::vector<std::string> names;
    int child;
    fdt_for_each_subnode(child, data(), Node(path)) {
      names.emplace_back(fdt_get_name(data(), child, nullptr));
    }
    return names;
  }
  // Property names of `path`, in order.
  std::vector<std::string> PropNames(const std::string& path) const {
    std::vector<std::string> names;
    int prop;
    fdt_for_each_property_offset(prop, data(), Node(path)) {
      const char* name = nullptr;
      fdt_getprop_by_offset(data(), prop, &name, nullptr);
      names.emplace_back(name);
    }
    return names;
  }

 private:
  std::vector<uint8_t> blob_;
};

using Names = std::vector<std::string>;

TEST(Aarch64Fdt, IsAValidBlobWithinTheSizeLimit) {
  const auto blob = BuildFdt(TwoCpuInputs());
  ASSERT_EQ(fdt_check_header(blob.data()), 0);
  EXPECT_EQ(fdt_totalsize(blob.data()), blob.size());
  EXPECT_LE(blob.size(), kFdtMaxSize);
  EXPECT_EQ(fdt_num_mem_rsv(blob.data()), 0);
}

TEST(Aarch64Fdt, RootAndItsChildren) {
  const Fdt fdt(BuildFdt(TwoCpuInputs()));
  EXPECT_EQ(fdt.Children("/"),
            (Names{"chosen", "memory@80000000", "cpus", "psci", "intc@3fff0000", "timer",
                   "apb-pclk", "uart@40001000", "virtio_mmio@40002000", "virtio_mmio@40003000"}));
  EXPECT_EQ(fdt.PropNames("/"), (Names{"compatible", "model", "#address-cells", "#size-cells",
                                       "interrupt-parent"}));
  EXPECT_EQ(fdt.String("/", "compatible"), "linux,dummy-virt");
  EXPECT_EQ(fdt.U32("/", "#address-cells"), 2u);
  EXPECT_EQ(fdt.U32("/", "#size-cells"), 2u);
  EXPECT_EQ(fdt.U32("/", "interrupt-parent"), kGicPhandle);
}

TEST(Aarch64Fdt, Chosen) {
  const FdtInputs in = TwoCpuInputs();
  const Fdt fdt(BuildFdt(in));
  EXPECT_EQ(fdt.PropNames("/chosen"),
            (Names{"bootargs", "stdout-path", "linux,initrd-start", "linux,initrd-end"}));
  EXPECT_EQ(fdt.String("/chosen", "bootargs"), in.bootargs);
  EXPECT_EQ(fdt.String("/chosen", "stdout-path"), "/uart@40001000");
  EXPECT_EQ(fdt.U64s("/chosen", "linux,initrd-start"), (std::vector<uint64_t>{*in.initrd_start}));
  EXPECT_EQ(fdt.U64s("/chosen", "linux,initrd-end"), (std::vector<uint64_t>{in.initrd_end}));

  FdtInputs no_initrd = in;
  no_initrd.initrd_start.reset();
  const Fdt bare(BuildFdt(no_initrd));
  EXPECT_EQ(bare.PropNames("/chosen"), (Names{"bootargs", "stdout-path"}));
}

TEST(Aarch64Fdt, Memory) {
  const Fdt fdt(BuildFdt(TwoCpuInputs()));
  EXPECT_EQ(fdt.String("/memory@80000000", "device_type"), "memory");
  EXPECT_EQ(fdt.U64s("/memory@80000000", "reg"), (std::vector<uint64_t>{kDramStart, 256 * kMiB}));
}

TEST(Aarch64Fdt, CpusWithPsciEnableMethodAndMpidrAffinity) {
  const Fdt fdt(BuildFdt(TwoCpuInputs()));
  EXPECT_EQ(fdt.U32("/cpus", "#address-cells"), 2u);
  EXPECT_EQ(fdt.U32("/cpus", "#size-cells"), 0u);
  EXPECT_EQ(fdt.Children("/cpus"), (Names{"cpu@0", "cpu@1"}));
  for (uint64_t i : {0, 1}) {
    const std::string cpu = "/cpus/cpu@" + std::to_string(i);
    EXPECT_EQ(fdt.PropNames(cpu), (Names{"device_type", "compatible", "enable-method", "reg"}));
    EXPECT_EQ(fdt.String(cpu, "device_type"), "cpu");
    EXPECT_EQ(fdt.String(cpu, "compatible"), "arm,arm-v8");
    EXPECT_EQ(fdt.String(cpu, "enable-method"), "psci");
    EXPECT_EQ(fdt.U64s(cpu, "reg"), (std::vector<uint64_t>{i})) << "affinity only, bit 31 dropped";
  }
  FdtInputs clustered = TwoCpuInputs();
  clustered.cpu_mpidrs = {0x80000000, 0x80000100, 0x8000010000ull | 0x80000000};
  const Fdt big(BuildFdt(clustered));
  EXPECT_EQ(big.Children("/cpus"), (Names{"cpu@0", "cpu@100", "cpu@8000010000"}));
}

TEST(Aarch64Fdt, PsciUsesHvc) {
  const Fdt fdt(BuildFdt(TwoCpuInputs()));
  EXPECT_EQ(fdt.Strings("/psci", "compatible"), "arm,psci-0.2|arm,psci");
  EXPECT_EQ(fdt.String("/psci", "method"), "hvc");
}

TEST(Aarch64Fdt, GicV3WithDistributorAndRedistributorRegions) {
  const FdtInputs in = TwoCpuInputs();
  const Fdt fdt(BuildFdt(in));
  const std::string gic = "/intc@3fff0000";
  EXPECT_EQ(fdt.String(gic, "compatible"), "arm,gic-v3");
  EXPECT_TRUE(fdt.Has(gic, "interrupt-controller"));
  EXPECT_TRUE(fdt.Has(gic, "ranges"));
  EXPECT_EQ(fdt.U32(gic, "#interrupt-cells"), 3u);
  EXPECT_EQ(fdt.U32(gic, "#address-cells"), 2u);
  EXPECT_EQ(fdt.U32(gic, "#size-cells"), 2u);
  EXPECT_EQ(fdt.U64s(gic, "reg"), (std::vector<uint64_t>{0x3fff0000, 0x10000, 0x3ffb0000, 0x40000}));
  EXPECT_EQ(fdt.Cells(gic, "interrupts"), (std::vector<uint32_t>{kGicPpi, 9, kIrqLevelHigh}));
  EXPECT_EQ(fdt.U32(gic, "phandle"), kGicPhandle);
  EXPECT_EQ(fdt_node_offset_by_phandle(fdt.data(), kGicPhandle), fdt.Node(gic));
}

TEST(Aarch64Fdt, ArmV8TimerWithItsFourPpis) {
  const Fdt fdt(BuildFdt(TwoCpuInputs()));
  EXPECT_EQ(fdt.String("/timer", "compatible"), "arm,armv8-timer");
  EXPECT_TRUE(fdt.Has("/timer", "always-on"));
  EXPECT_EQ(fdt.Cells("/timer", "interrupts"),
            (std::vector<uint32_t>{1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4}));
}

TEST(Aarch64Fdt, Pl011WithApbClock) {
  const Fdt fdt(BuildFdt(TwoCpuInputs()));
  EXPECT_EQ(fdt.String("/apb-pclk", "compatible"), "fixed-clock");
  EXPECT_EQ(fdt.U32("/apb-pclk", "#clock-cells"), 0u);
  EXPECT_EQ(fdt.U32("/apb-pclk", "clock-frequency"), 24000000u);
  EXPECT_EQ(fdt.String("/apb-pclk", "clock-output-names"), "clk24mhz");
  EXPECT_EQ(fdt.U32("/apb-pclk", "phandle"), kApbClockPhandle);

  const std::string uart = "/uart@40001000";
  EXPECT_EQ(fdt.Strings(uart, "compatible"), "arm,pl011|arm,primecell");
  EXPECT_EQ(fdt.U64s(uart, "reg"), (std::vector<uint64_t>{kPl011Base, kPl011Size}));
  EXPECT_EQ(fdt.Cells(uart, "interrupts"), (std::vector<uint32_t>{kGicSpi, kPl011Spi, 1}));
  EXPECT_EQ(fdt.U32(uart, "clocks"), kApbClockPhandle);
  EXPECT_EQ(fdt.String(uart, "clock-names"), "apb_pclk");
}

TEST(Aarch64Fdt, OneVirtioMmioNodePerDeviceWithItsSpi) {
  const Fdt fdt(BuildFdt(TwoCpuInputs()));
  for (uint32_t i : {0u, 1u}) {
    const uint64_t base = kVirtioMmioBase + i * 0x1000;
    const std::string node = "/" + VirtioNodeName(base);
    EXPECT_EQ(fdt.PropNames(node), (Names{"compatible", "reg", "interrupts", "dma-coherent"}));
    EXPECT_EQ(fdt.String(node, "compatible"), "virtio,mmio");
    EXPECT_EQ(fdt.U64s(node, "reg"), (std::vector<uint64_t>{base, 0x1000}));
    EXPECT_EQ(fdt.Cells(node, "interrupts"), (std::vector<uint32_t>{kGicSpi, i + 1, kIrqEdgeRising}));
  }
}

TEST(Aarch64Fdt, OverlongCommandLineIsABootError) {
  FdtInputs in = TwoCpuInputs();
  in.bootargs.assign(kFdtMaxSize, 'x');
  EXPECT_THROW(BuildFdt(in), arch::BootError);
}

}  // namespace
}  // namespace hull::vmm::aarch64
