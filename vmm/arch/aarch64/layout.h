// Fixed guest-physical layout of the arm64 machine, modelled on Firecracker's:
// RAM from 2 GiB up, devices in the 1-2 GiB hole below it. The boot marker
// sits at 0x40000000 (DESIGN.md, "Interfaces"), the GIC just below it.
#pragma once

#include <cstdint>

namespace hull::vmm::aarch64 {

inline constexpr uint64_t kMiB = 1ull << 20;
inline constexpr uint64_t kGiB = 1ull << 30;

inline constexpr uint64_t kDramStart = 0x8000'0000;
// KVM's default IPA space is 40 bits (1 TiB); RAM must end below it.
inline constexpr uint64_t kIpaLimit = 1ull << 40;
inline constexpr uint64_t kMaxRamSize = kIpaLimit - kDramStart;
// arm64 Linux wants its Image at a 2 MiB-aligned base; hull keeps RAM sizes
// whole 2 MiB blocks so the FDT can take the top block.
inline constexpr uint64_t kRamAlignment = 2 * kMiB;

// GICv3: the distributor ends where the device window starts; the
// redistributors (one 128 KiB frame pair per vCPU) sit below it.
inline constexpr uint64_t kGicDistSize = 0x1'0000;
inline constexpr uint64_t kGicDistBase = 0x4000'0000 - kGicDistSize;
inline constexpr uint64_t kGicRedistSizePerVcpu = 0x2'0000;
// Lowest address the redistributor region may reach (keeps 512 vCPUs' worth).
inline constexpr uint64_t kGicRedistFloor = 0x3000'0000;

inline constexpr uint64_t kBootMarkerAddress = 0x4000'0000;
inline constexpr uint64_t kPl011Base = 0x4000'1000;
inline constexpr uint64_t kPl011Size = 0x1000;
inline constexpr uint64_t kVirtioMmioBase = 0x4000'2000;
inline constexpr uint64_t kVirtioMmioSlotSize = 0x1000;

// Interrupts are SPI numbers (INTID - 32): KVM's default irq routing maps
// GSI n to SPI n, so an irqfd on GSI n is the FDT's <GIC_SPI n>.
inline constexpr uint32_t kGicNrIrqs = 128;  // 32 private + 96 SPIs (multiple of 32)
inline constexpr uint32_t kPl011Spi = 0;
inline constexpr uint32_t kFirstDeviceSpi = 1;
inline constexpr uint32_t kLastDeviceSpi = kGicNrIrqs - 32 - 1;

// Device tree blob: at most 2 MiB, 8-byte aligned (arm64 booting.rst); hull
// puts it in the top 2 MiB of RAM.
inline constexpr uint64_t kFdtMaxSize = 2 * kMiB;

}  // namespace hull::vmm::aarch64
