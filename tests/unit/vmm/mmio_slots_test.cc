// Slot allocation for virtio-mmio devices: windows, IRQs, bus registration
// and the announcement to the guest, with a fake arch back end.
#include "main/mmio_slots.h"

#include <gtest/gtest.h>

namespace hull::vmm {
namespace {

class FakeArch : public arch::Arch {
 public:
  std::string name() const override { return "fake"; }
  arch::DeviceLayout Layout() const override { return {0xd0000000, 0xd0001000, 0x1000, {5, 6}}; }
  std::vector<arch::RamRegion> RamRegions(uint64_t) const override { return {}; }
  void SetupVm(kvm::Vm&) override {}
  void AddPlatformDevices(arch::PlatformContext&) override {}
  void ConsoleInput(std::span<const uint8_t>) override {}
  bool SendCtrlAltDel() override { return false; }
  void AnnounceMmioDevice(GuestAddress base, uint64_t size, uint32_t irq) override {
    announced.push_back({base, size, irq});
  }
  void LoadKernel(const GuestMemory&, const arch::BootSource&, uint32_t) override {}
  void SetupVcpu(kvm::Vcpu&, uint32_t) override {}

  struct Announcement {
    GuestAddress base;
    uint64_t size;
    uint32_t irq;
  };
  std::vector<Announcement> announced;
};

class NullIrq : public IrqLine {
 public:
  void Trigger() override {}
};

class Register : public IoHandler {
 public:
  void Read(uint64_t offset, std::span<uint8_t> data) override {
    data[0] = static_cast<uint8_t>(offset);
  }
  void Write(uint64_t, std::span<const uint8_t>) override {}
};

TEST(MmioSlots, AllocatesWindowsAndIrqsInOrderAndAnnouncesThem) {
  FakeArch arch;
  Bus mmio("MMIO");
  std::vector<uint32_t> irqs;
  MmioSlots slots(arch, mmio, [&](uint32_t irq) {
    irqs.push_back(irq);
    return std::make_shared<NullIrq>();
  });
  const MmioSlot first = slots.Allocate();
  const MmioSlot second = slots.Allocate();
  EXPECT_EQ(first.base, 0xd0001000u);
  EXPECT_EQ(second.base, 0xd0002000u);
  EXPECT_EQ(first.irq, 5u);
  EXPECT_EQ(second.irq, 6u);
  EXPECT_EQ(irqs, (std::vector<uint32_t>{5, 6}));
  EXPECT_TRUE(first.irq_line);
  EXPECT_THROW(slots.Allocate(), BusError) << "no IRQ left";

  slots.Attach(second, std::make_shared<Register>());
  ASSERT_EQ(arch.announced.size(), 1u);
  EXPECT_EQ(arch.announced[0].base, 0xd0002000u);
  EXPECT_EQ(arch.announced[0].irq, 6u);
  uint8_t value = 0;
  EXPECT_TRUE(mmio.Read(0xd0002010, {&value, 1}));
  EXPECT_EQ(value, 0x10);
  EXPECT_FALSE(mmio.Read(0xd0001000, {&value, 1})) << "first slot never attached";
}

}  // namespace
}  // namespace hull::vmm
