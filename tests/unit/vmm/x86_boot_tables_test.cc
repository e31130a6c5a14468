// Page tables, GDT, MP table, CPUID filter and boot sregs, without KVM.
#if defined(__x86_64__)
#include <gtest/gtest.h>

#include <numeric>

#include "arch/x86_64/boot_tables.h"
#include "arch/x86_64/cpuid.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/mptable.h"
#include "arch/x86_64/vcpu_setup.h"

namespace hull::vmm::x86 {
namespace {

GuestMemory MakeMemory() {
  GuestMemory memory;
  memory.AddRegion(MemoryRegion(0, 16 << 20));
  return memory;
}

TEST(X86BootTables, IdentityMapsFirstGiBWith2MiBPages) {
  GuestMemory memory = MakeMemory();
  WriteIdentityPageTables(memory);
  EXPECT_EQ(*memory.ReadObj<uint64_t>(kPml4Address), kPdptAddress | 0x3);
  EXPECT_EQ(*memory.ReadObj<uint64_t>(kPdptAddress), kPdAddress | 0x3);
  EXPECT_EQ(*memory.ReadObj<uint64_t>(kPdAddress), 0x83u);
  EXPECT_EQ(*memory.ReadObj<uint64_t>(kPdAddress + 8), (1u << 21) | 0x83);
  EXPECT_EQ(*memory.ReadObj<uint64_t>(kPdAddress + 511 * 8), (511ull << 21) | 0x83);
}

TEST(X86BootTables, GdtHas64BitCodeAndFlatData) {
  GuestMemory memory = MakeMemory();
  WriteGdtAndIdt(memory);
  const uint64_t code = *memory.ReadObj<uint64_t>(kGdtAddress + kCodeSelector);
  EXPECT_TRUE(code & (1ull << 53)) << "L bit";
  EXPECT_TRUE(code & (1ull << 47)) << "present";
  const uint64_t data = *memory.ReadObj<uint64_t>(kGdtAddress + kDataSelector);
  EXPECT_FALSE(data & (1ull << 43)) << "data is not executable";
  EXPECT_EQ(*memory.ReadObj<uint64_t>(kGdtAddress), 0u);
}

TEST(X86BootTables, BootSregsEnterLongModeWithPaging) {
  const kvm_sregs s = BootSregs(kvm_sregs{});
  EXPECT_EQ(s.cr3, kPml4Address);
  EXPECT_TRUE(s.cr0 & 1);
  EXPECT_TRUE(s.cr0 & (1ull << 31));
  EXPECT_TRUE(s.cr4 & (1 << 5));
  EXPECT_EQ(s.efer & 0x500, 0x500u);
  EXPECT_EQ(s.cs.selector, kCodeSelector);
  EXPECT_EQ(s.cs.l, 1);
  EXPECT_EQ(s.ds.selector, kDataSelector);
  EXPECT_EQ(s.gdt.base, kGdtAddress);
}

uint8_t Sum(const uint8_t* p, size_t n) {
  return std::accumulate(p, p + n, uint8_t{0});
}

TEST(X86MpTable, ChecksumsAndOneProcessorEntryPerVcpu) {
  for (uint32_t cpus : {1u, 2u, 8u}) {
    const auto table = BuildMpTable(kEbdaStart, cpus);
    ASSERT_EQ(std::string(table.begin(), table.begin() + 4), "_MP_");
    EXPECT_EQ(Sum(table.data(), 16), 0) << "floating pointer checksum";
    uint32_t config_address;
    std::memcpy(&config_address, table.data() + 4, 4);
    EXPECT_EQ(config_address, kEbdaStart + 16);
    const uint8_t* config = table.data() + 16;
    ASSERT_EQ(std::string(config, config + 4), "PCMP");
    uint16_t length, entries;
    std::memcpy(&length, config + 4, 2);
    std::memcpy(&entries, config + 34, 2);
    EXPECT_EQ(length, table.size() - 16);
    EXPECT_EQ(Sum(config, length), 0) << "config table checksum";
    EXPECT_EQ(entries, cpus + 1 /*bus*/ + 1 /*ioapic*/ + kIoApicPins + 2 /*lint*/);
    // Processor entries come first; only the first is the BSP.
    const uint8_t* entry = config + 44;
    for (uint32_t i = 0; i < cpus; ++i, entry += 20) {
      EXPECT_EQ(entry[0], 0);
      EXPECT_EQ(entry[1], i);
      EXPECT_EQ(entry[3], i == 0 ? 3 : 1);
    }
  }
  EXPECT_THROW(BuildMpTable(kEbdaStart, 0), std::invalid_argument);
  EXPECT_THROW(BuildMpTable(kEbdaStart, 255), std::invalid_argument);
  // Beyond the EBDA kilobyte it runs into the legacy hole, which is no RAM either.
  EXPECT_LE(kEbdaStart + BuildMpTable(kEbdaStart, kMaxMpTableCpus).size(), kHighMemoryStart);
}

TEST(X86Cpuid, SetsApicIdsAndHypervisorBit) {
  std::vector<kvm_cpuid_entry2> supported(3);
  supported[0].function = 1;
  supported[0].ebx = 0xff00ffff;
  supported[1].function = 0xb;
  supported[2].function = 0xa;
  supported[2].eax = 0x12345;
  const auto out = FilterCpuid(supported, {3, 4, true});
  EXPECT_EQ(out[0].ebx >> 24, 3u);
  EXPECT_EQ((out[0].ebx >> 16) & 0xff, 4u);
  EXPECT_TRUE(out[0].ecx & (1u << 31));
  EXPECT_TRUE(out[0].ecx & (1u << 24)) << "TSC deadline timer";
  EXPECT_TRUE(out[0].edx & (1u << 28));
  EXPECT_EQ(out[1].edx, 3u);
  EXPECT_EQ(out[2].eax, 0u) << "no PMU";
  EXPECT_FALSE(FilterCpuid(supported, {0, 1, false})[0].edx & (1u << 28));
  EXPECT_FALSE(FilterCpuid(supported, {0, 1, false})[0].ecx & (1u << 24));
}

}  // namespace
}  // namespace hull::vmm::x86
#endif
