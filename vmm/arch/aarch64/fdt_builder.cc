#include "arch/aarch64/fdt_builder.h"

#include <libfdt.h>

#include <cstdio>
#include <initializer_list>

#include "arch/aarch64/layout.h"
#include "arch/arch.h"

namespace hull::vmm::aarch64 {
namespace {

// Thin checked wrapper over libfdt's sequential writer: every call either
// succeeds or throws, so the builder below reads as the tree it makes.
class FdtWriter {
 public:
  explicit FdtWriter(size_t size) : blob_(size) {
    Check(fdt_create(blob_.data(), static_cast<int>(blob_.size())), "fdt_create");
    Check(fdt_finish_reservemap(blob_.data()), "fdt_finish_reservemap");
  }
  void Begin(const std::string& name) {
    Check(fdt_begin_node(blob_.data(), name.c_str()), "fdt_begin_node");
  }
  void End() { Check(fdt_end_node(blob_.data()), "fdt_end_node"); }
  void Empty(const char* name) { Check(fdt_property(blob_.data(), name, nullptr, 0), name); }
  void U32(const char* name, uint32_t value) {
    Check(fdt_property_u32(blob_.data(), name, value), name);
  }
  void U64(const char* name, uint64_t value) {
    Check(fdt_property_u64(blob_.data(), name, value), name);
  }
  void String(const char* name, const std::string& value) {
    Check(fdt_property_string(blob_.data(), name, value.c_str()), name);
  }
  // A string list ("a\0b\0").
  void Strings(const char* name, std::initializer_list<const char*> values) {
    std::string joined;
    for (const char* v : values) joined.append(v).push_back('\0');
    Check(fdt_property(blob_.data(), name, joined.data(), static_cast<int>(joined.size())), name);
  }
  void Cells(const char* name, const std::vector<uint32_t>& cells) {
    std::vector<fdt32_t> be;
    for (uint32_t c : cells) be.push_back(cpu_to_fdt32(c));
    Check(fdt_property(blob_.data(), name, be.data(), static_cast<int>(be.size() * 4)), name);
  }
  // <address size> pairs with #address-cells = #size-cells = 2.
  void Reg(std::initializer_list<uint64_t> values) {
    std::vector<fdt64_t> be;
    for (uint64_t v : values) be.push_back(cpu_to_fdt64(v));
    Check(fdt_property(blob_.data(), "reg", be.data(), static_cast<int>(be.size() * 8)), "reg");
  }
  std::vector<uint8_t> Finish() {
    Check(fdt_finish(blob_.data()), "fdt_finish");
    blob_.resize(fdt_totalsize(blob_.data()));
    return std::move(blob_);
  }

 private:
  static void Check(int rc, const char* what) {
    if (rc < 0) {
      throw arch::BootError(std::string("building the device tree failed at ") + what + ": " +
                            fdt_strerror(rc) + " (too many devices or too long a command line?)");
    }
  }
  std::vector<uint8_t> blob_;
};

std::string NodeName(const char* prefix, uint64_t address) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s@%llx", prefix, static_cast<unsigned long long>(address));
  return buf;
}

void AddCpus(FdtWriter& fdt, const std::vector<uint64_t>& mpidrs) {
  fdt.Begin("cpus");
  fdt.U32("#address-cells", 2);
  fdt.U32("#size-cells", 0);
  for (uint64_t mpidr : mpidrs) {
    // reg is the MPIDR's affinity fields (Aff3 in 39:32, Aff2..Aff0 in 23:0).
    const uint64_t affinity = mpidr & 0xff'00ff'ffffull;
    fdt.Begin(NodeName("cpu", affinity));
    fdt.String("device_type", "cpu");
    fdt.String("compatible", "arm,arm-v8");
    fdt.String("enable-method", "psci");
    fdt.U64("reg", affinity);
    fdt.End();
  }
  fdt.End();
}

void AddGic(FdtWriter& fdt, const GicLayout& gic) {
  fdt.Begin(NodeName("intc", gic.dist_base));
  fdt.String("compatible", "arm,gic-v3");
  fdt.Empty("interrupt-controller");
  fdt.U32("#interrupt-cells", 3);
  fdt.U32("#address-cells", 2);
  fdt.U32("#size-cells", 2);
  fdt.Empty("ranges");
  fdt.Reg({gic.dist_base, gic.dist_size, gic.redist_base, gic.redist_size});
  fdt.Cells("interrupts", {kGicPpi, kGicMaintenancePpi, kIrqLevelHigh});
  fdt.U32("phandle", kGicPhandle);
  fdt.End();
}

void AddTimer(FdtWriter& fdt) {
  fdt.Begin("timer");
  fdt.String("compatible", "arm,armv8-timer");
  fdt.Empty("always-on");
  std::vector<uint32_t> cells;
  for (uint32_t ppi : kTimerPpis) cells.insert(cells.end(), {kGicPpi, ppi, kIrqLevelHigh});
  fdt.Cells("interrupts", cells);
  fdt.End();
}

void AddUart(FdtWriter& fdt, const FdtMmioDevice& uart) {
  fdt.Begin("apb-pclk");
  fdt.String("compatible", "fixed-clock");
  fdt.U32("#clock-cells", 0);
  fdt.U32("clock-frequency", kApbClockHz);
  fdt.String("clock-output-names", "clk24mhz");
  fdt.U32("phandle", kApbClockPhandle);
  fdt.End();

  fdt.Begin(UartNodeName(uart.base));
  fdt.Strings("compatible", {"arm,pl011", "arm,primecell"});
  fdt.Reg({uart.base, uart.size});
  // Edge: hull's interrupt lines are irqfd pulses, which a level-sensitive
  // SPI would drop again before the guest saw them.
  fdt.Cells("interrupts", {kGicSpi, uart.spi, kIrqEdgeRising});
  fdt.U32("clocks", kApbClockPhandle);
  fdt.String("clock-names", "apb_pclk");
  fdt.End();
}

void AddVirtio(FdtWriter& fdt, const FdtMmioDevice& device) {
  fdt.Begin(VirtioNodeName(device.base));
  fdt.String("compatible", "virtio,mmio");
  fdt.Reg({device.base, device.size});
  fdt.Cells("interrupts", {kGicSpi, device.spi, kIrqEdgeRising});
  fdt.Empty("dma-coherent");
  fdt.End();
}

}  // namespace

std::string UartNodeName(uint64_t base) { return NodeName("uart", base); }
std::string VirtioNodeName(uint64_t base) { return NodeName("virtio_mmio", base); }

std::vector<uint8_t> BuildFdt(const FdtInputs& in) {
  FdtWriter fdt(kFdtMaxSize);
  fdt.Begin("");
  fdt.String("compatible", "linux,dummy-virt");
  fdt.String("model", "hull microVM");
  fdt.U32("#address-cells", 2);
  fdt.U32("#size-cells", 2);
  fdt.U32("interrupt-parent", kGicPhandle);

  fdt.Begin("chosen");
  fdt.String("bootargs", in.bootargs);
  fdt.String("stdout-path", "/" + UartNodeName(in.uart.base));
  if (in.initrd_start) {
    fdt.U64("linux,initrd-start", *in.initrd_start);
    fdt.U64("linux,initrd-end", in.initrd_end);
  }
  fdt.End();

  fdt.Begin(NodeName("memory", in.ram_base));
  fdt.String("device_type", "memory");
  fdt.Reg({in.ram_base, in.ram_size});
  fdt.End();

  AddCpus(fdt, in.cpu_mpidrs);

  fdt.Begin("psci");
  fdt.Strings("compatible", {"arm,psci-0.2", "arm,psci"});
  fdt.String("method", "hvc");
  fdt.End();

  AddGic(fdt, in.gic);
  AddTimer(fdt);
  AddUart(fdt, in.uart);
  for (const auto& device : in.virtio) AddVirtio(fdt, device);
  fdt.End();
  return fdt.Finish();
}

}  // namespace hull::vmm::aarch64
