// Fixed guest-physical addresses of the x86-64 boot layout (DESIGN.md, "Boot
// facts"). Everything below 1 MiB that the kernel reads at boot lives here.
#pragma once

#include <cstdint>

namespace hull::vmm::x86 {

inline constexpr uint64_t kGdtAddress = 0x500;
inline constexpr uint64_t kIdtAddress = 0x520;
inline constexpr uint64_t kZeroPageAddress = 0x7000;
inline constexpr uint64_t kBootStackPointer = 0x8ff0;
inline constexpr uint64_t kPml4Address = 0x9000;
inline constexpr uint64_t kPdptAddress = 0xa000;
inline constexpr uint64_t kPdAddress = 0xb000;
inline constexpr uint64_t kCmdlineAddress = 0x20000;
inline constexpr uint64_t kEbdaStart = 0x9fc00;         // end of low RAM; MP table lives here
inline constexpr uint64_t kHighMemoryStart = 0x100000;  // kernel load address
inline constexpr uint64_t kMmioGapStart = 0xc0000000;   // 32-bit hole: no RAM from here to 4 GiB
inline constexpr uint64_t kMmioGapEnd = 0x100000000;
inline constexpr uint64_t kBootMarkerAddress = 0xd0000000;
inline constexpr uint64_t kVirtioMmioBase = 0xd0001000;
inline constexpr uint64_t kVirtioMmioSlotSize = 0x1000;
inline constexpr uint64_t kIoApicAddress = 0xfec00000;
inline constexpr uint64_t kLapicAddress = 0xfee00000;
inline constexpr uint64_t kTssAddress = 0xfffbd000;
inline constexpr uint64_t kIdentityMapAddress = 0xfffbc000;
inline constexpr uint32_t kIoApicPins = 24;

// PIO ports and ISA IRQs of the legacy devices.
inline constexpr uint16_t kCom1Port = 0x3f8;
inline constexpr uint32_t kCom1Irq = 4;
inline constexpr uint16_t kI8042DataPort = 0x60;
inline constexpr uint16_t kI8042CommandPort = 0x64;
inline constexpr uint32_t kI8042KeyboardIrq = 1;

}  // namespace hull::vmm::x86
