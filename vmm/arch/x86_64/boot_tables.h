// The CPU-side boot tables for entering a 64-bit kernel directly in long
// mode: identity-mapped page tables for the first 1 GiB (2 MiB pages) and a
// flat GDT. The register values that go with them are in vcpu_setup.cc.
#pragma once

#include <array>
#include <cstdint>

#include "memory/guest_memory.h"

namespace hull::vmm::x86 {

inline constexpr uint16_t kCodeSelector = 0x08;
inline constexpr uint16_t kDataSelector = 0x10;
inline constexpr uint16_t kTssSelector = 0x18;

// Null, 64-bit code, data, TSS descriptors.
std::array<uint64_t, 4> BootGdt();

// Writes PML4, PDPT and PD at their fixed addresses (layout.h).
void WriteIdentityPageTables(const GuestMemory& memory);
// Writes the GDT and an empty IDT.
void WriteGdtAndIdt(const GuestMemory& memory);

}  // namespace hull::vmm::x86
