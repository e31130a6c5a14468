// Builds the flattened device tree an arm64 Linux guest boots with (libfdt's
// sequential-write API): memory, cpus (PSCI enable-method), psci (hvc),
// GICv3, the armv8 timer, the PL011 with its apb_pclk fixed clock, one
// virtio,mmio node per device, and /chosen (bootargs, stdout-path, initrd).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arch/aarch64/gic_layout.h"

namespace hull::vmm::aarch64 {

struct FdtMmioDevice {
  uint64_t base = 0;
  uint64_t size = 0;
  uint32_t spi = 0;  // SPI number (INTID - 32)
};

struct FdtInputs {
  uint64_t ram_base = 0;
  uint64_t ram_size = 0;
  std::vector<uint64_t> cpu_mpidrs;  // MPIDR_EL1 of each vCPU, as KVM reports it
  GicLayout gic;
  FdtMmioDevice uart;
  std::vector<FdtMmioDevice> virtio;
  std::string bootargs;
  std::optional<uint64_t> initrd_start;
  uint64_t initrd_end = 0;  // exclusive
};

// Phandles and interrupt cells the tree uses (also what the unit test checks).
inline constexpr uint32_t kGicPhandle = 1;
inline constexpr uint32_t kApbClockPhandle = 2;
inline constexpr uint32_t kGicSpi = 0, kGicPpi = 1;
inline constexpr uint32_t kIrqEdgeRising = 1, kIrqLevelHigh = 4;
inline constexpr uint32_t kApbClockHz = 24'000'000;
// The CPU-interface PPIs (INTID - 16) of the armv8 timer: secure phys,
// non-secure phys, virtual, hypervisor; and the GIC maintenance interrupt.
inline constexpr uint32_t kTimerPpis[4] = {13, 14, 11, 10};
inline constexpr uint32_t kGicMaintenancePpi = 9;

// The finished DTB (packed, at most kFdtMaxSize). Throws arch::BootError when
// libfdt fails (only when the tree would exceed kFdtMaxSize).
std::vector<uint8_t> BuildFdt(const FdtInputs& inputs);

// Node names, for stdout-path and tests.
std::string UartNodeName(uint64_t base);
std::string VirtioNodeName(uint64_t base);

}  // namespace hull::vmm::aarch64
