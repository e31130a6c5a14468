#include "arch/x86_64/mptable.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "arch/x86_64/layout.h"

namespace hull::vmm::x86 {
namespace {

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>& out) : out_(out) {}
  template <typename T>
  void Put(T value) {
    const size_t at = out_.size();
    out_.resize(at + sizeof(T));
    std::memcpy(out_.data() + at, &value, sizeof(T));
  }
  void PutBytes(const char* s, size_t n) { out_.insert(out_.end(), s, s + n); }

 private:
  std::vector<uint8_t>& out_;
};

uint8_t Checksum(const uint8_t* p, size_t n) {
  uint8_t sum = 0;
  for (size_t i = 0; i < n; ++i) sum = static_cast<uint8_t>(sum + p[i]);
  return static_cast<uint8_t>(-sum);
}

constexpr size_t kFloatingPointerSize = 16;
constexpr uint8_t kApicVersion = 0x14;
constexpr uint8_t kIoApicVersion = 0x11;
constexpr uint8_t kEntryProcessor = 0, kEntryBus = 1, kEntryIoApic = 2, kEntryIoInterrupt = 3,
                  kEntryLocalInterrupt = 4;
constexpr uint8_t kIntTypeInt = 0, kIntTypeNmi = 1, kIntTypeExtInt = 3;

}  // namespace

std::vector<uint8_t> BuildMpTable(uint64_t address, uint32_t vcpu_count) {
  if (vcpu_count == 0 || vcpu_count > kMaxMpTableCpus) {
    throw std::invalid_argument("MP table: " + std::to_string(vcpu_count) + " vCPUs (1.." +
                                std::to_string(kMaxMpTableCpus) + " possible)");
  }
  std::vector<uint8_t> out;
  ByteWriter w(out);
  const uint32_t table_address = static_cast<uint32_t>(address + kFloatingPointerSize);
  // Floating pointer structure.
  w.PutBytes("_MP_", 4);
  w.Put<uint32_t>(table_address);
  w.Put<uint8_t>(1);                              // length in 16-byte units
  w.Put<uint8_t>(4);                              // spec revision 1.4
  w.Put<uint8_t>(0);                              // checksum, below
  for (int i = 0; i < 5; ++i) w.Put<uint8_t>(0);  // feature bytes: 0 = a config table follows
  out[10] = Checksum(out.data(), kFloatingPointerSize);

  // Configuration table header; length, entry count and checksum patched below.
  const size_t header = out.size();
  w.PutBytes("PCMP", 4);
  w.Put<uint16_t>(0);  // length
  w.Put<uint8_t>(4);
  w.Put<uint8_t>(0);  // checksum
  w.PutBytes("HULL    ", 8);
  w.PutBytes("MICROVM     ", 12);
  w.Put<uint32_t>(0);  // OEM table pointer
  w.Put<uint16_t>(0);  // OEM table size
  w.Put<uint16_t>(0);  // entry count
  w.Put<uint32_t>(static_cast<uint32_t>(kLapicAddress));
  w.Put<uint32_t>(0);
  uint16_t entries = 0;

  for (uint32_t cpu = 0; cpu < vcpu_count; ++cpu, ++entries) {
    w.Put<uint8_t>(kEntryProcessor);
    w.Put<uint8_t>(static_cast<uint8_t>(cpu));  // APIC ID
    w.Put<uint8_t>(kApicVersion);
    w.Put<uint8_t>(static_cast<uint8_t>(1 | (cpu == 0 ? 2 : 0)));  // enabled, BSP
    w.Put<uint32_t>(0x600);                                        // CPU signature: family 6
    w.Put<uint32_t>(0x201);                                        // features: FPU, APIC
    w.Put<uint32_t>(0);
    w.Put<uint32_t>(0);
  }
  w.Put<uint8_t>(kEntryBus);
  w.Put<uint8_t>(0);
  w.PutBytes("ISA   ", 6);
  ++entries;
  const uint8_t ioapic_id = static_cast<uint8_t>(vcpu_count + 1);
  w.Put<uint8_t>(kEntryIoApic);
  w.Put<uint8_t>(ioapic_id);
  w.Put<uint8_t>(kIoApicVersion);
  w.Put<uint8_t>(1);  // enabled
  w.Put<uint32_t>(static_cast<uint32_t>(kIoApicAddress));
  ++entries;
  for (uint32_t pin = 0; pin < kIoApicPins; ++pin, ++entries) {
    w.Put<uint8_t>(kEntryIoInterrupt);
    w.Put<uint8_t>(kIntTypeInt);
    w.Put<uint16_t>(0);  // conforming polarity/trigger: ISA edge, active high
    w.Put<uint8_t>(0);   // source bus: ISA
    w.Put<uint8_t>(static_cast<uint8_t>(pin));
    w.Put<uint8_t>(ioapic_id);
    w.Put<uint8_t>(static_cast<uint8_t>(pin));
  }
  for (uint8_t type : {kIntTypeExtInt, kIntTypeNmi}) {
    w.Put<uint8_t>(kEntryLocalInterrupt);
    w.Put<uint8_t>(type);
    w.Put<uint16_t>(0);
    w.Put<uint8_t>(0);
    w.Put<uint8_t>(0);
    w.Put<uint8_t>(type == kIntTypeExtInt ? 0 : 0xff);  // ExtINT to the BSP, NMI to all
    w.Put<uint8_t>(type == kIntTypeExtInt ? 0 : 1);     // LINT0 / LINT1
    ++entries;
  }
  const uint16_t length = static_cast<uint16_t>(out.size() - header);
  std::memcpy(out.data() + header + 4, &length, 2);
  std::memcpy(out.data() + header + 34, &entries, 2);
  out[header + 7] = Checksum(out.data() + header, length);
  return out;
}

}  // namespace hull::vmm::x86
