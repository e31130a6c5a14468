#include "arch/x86_64/boot_tables.h"

#include "arch/x86_64/layout.h"

namespace hull::vmm::x86 {

std::array<uint64_t, 4> BootGdt() {
  return {
      0,                      // null
      0x00af9b000000ffffull,  // code: present, DPL0, execute/read, L=1, G=1
      0x00cf93000000ffffull,  // data: present, DPL0, read/write, D/B=1, G=1
      0x008f8b000000ffffull,  // TSS: present, busy 64-bit TSS, G=1
  };
}

void WriteIdentityPageTables(const GuestMemory& memory) {
  constexpr uint64_t kPresentWritable = 0x3;
  constexpr uint64_t kPageSize2M = 0x80;
  const uint64_t pml4_entry = kPdptAddress | kPresentWritable;
  const uint64_t pdpt_entry = kPdAddress | kPresentWritable;
  memory.WriteOrThrow(kPml4Address, {reinterpret_cast<const uint8_t*>(&pml4_entry), 8}, "PML4");
  memory.WriteOrThrow(kPdptAddress, {reinterpret_cast<const uint8_t*>(&pdpt_entry), 8}, "PDPT");
  std::array<uint64_t, 512> pd{};
  for (uint64_t i = 0; i < pd.size(); ++i) pd[i] = (i << 21) | kPresentWritable | kPageSize2M;
  memory.WriteOrThrow(kPdAddress, {reinterpret_cast<const uint8_t*>(pd.data()), sizeof pd},
                      "page directory");
}

void WriteGdtAndIdt(const GuestMemory& memory) {
  const auto gdt = BootGdt();
  memory.WriteOrThrow(kGdtAddress, {reinterpret_cast<const uint8_t*>(gdt.data()), sizeof gdt},
                      "GDT");
  memory.WriteOrThrow(kIdtAddress, std::array<uint8_t, 8>{}, "IDT");
}

}  // namespace hull::vmm::x86
