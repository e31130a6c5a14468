// Intel MultiProcessor Specification 1.4 table: how a guest without ACPI
// finds its CPUs (one processor entry per vCPU) and the IOAPIC with its 24
// pins. Written at the EBDA (0x9fc00), where Linux looks for it.
#pragma once

#include <cstdint>
#include <vector>

namespace hull::vmm::x86 {

inline constexpr uint32_t kMaxMpTableCpus = 254;  // APIC IDs are 8 bits; the IOAPIC takes one

// The bytes of the floating pointer followed by the configuration table,
// meant to be copied to `address`.
std::vector<uint8_t> BuildMpTable(uint64_t address, uint32_t vcpu_count);

}  // namespace hull::vmm::x86
