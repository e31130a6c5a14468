// 8250 UART, i8042 and the boot marker against the register protocol the
// Linux drivers use.
#include <gtest/gtest.h>

#include <string>

#include "devices/legacy/boot_marker.h"
#include "devices/legacy/i8042.h"
#include "devices/legacy/serial.h"

namespace hull::vmm::devices {
namespace {

class CountingIrq : public IrqLine {
 public:
  void Trigger() override { ++count; }
  int count = 0;
};

uint8_t Read(IoHandler& d, uint64_t offset) {
  uint8_t v = 0;
  d.Read(offset, {&v, 1});
  return v;
}
void Write(IoHandler& d, uint64_t offset, uint8_t v) {
  d.Write(offset, {&v, 1});
}

struct SerialFixture : ::testing::Test {
  std::shared_ptr<CountingIrq> irq = std::make_shared<CountingIrq>();
  std::string out;
  Serial serial{irq, [this](std::span<const uint8_t> b) { out.append(b.begin(), b.end()); }};
};

TEST_F(SerialFixture, TransmitsBytesAndReportsTransmitterEmpty) {
  for (char c : std::string("hi\n")) Write(serial, 0, static_cast<uint8_t>(c));
  EXPECT_EQ(out, "hi\n");
  EXPECT_EQ(Read(serial, 5) & 0x60, 0x60) << "THR empty and idle";
  EXPECT_EQ(Read(serial, 2) & 0x01, 0x01) << "no interrupt while IER is 0";
  EXPECT_EQ(irq->count, 0);
}

TEST_F(SerialFixture, ThrEmptyInterruptOnEnableAndAfterEachByte) {
  Write(serial, 1, 0x02);  // IER: THR empty
  EXPECT_EQ(irq->count, 1);
  EXPECT_EQ(Read(serial, 2) & 0x0f, 0x02);
  EXPECT_EQ(Read(serial, 2) & 0x0f, 0x01) << "reading IIR acknowledged it";
  Write(serial, 0, 'x');
  EXPECT_EQ(irq->count, 2);
  EXPECT_EQ(Read(serial, 2) & 0x0f, 0x02);
}

TEST_F(SerialFixture, ReceivesHostInputWithDataReadyAndInterrupt) {
  const std::string input = "ab";
  EXPECT_EQ(serial.Enqueue({reinterpret_cast<const uint8_t*>(input.data()), input.size()}), 2u);
  EXPECT_EQ(irq->count, 0) << "receive interrupt not enabled yet";
  Write(serial, 1, 0x01);  // IER: data available
  EXPECT_EQ(irq->count, 1);
  EXPECT_EQ(Read(serial, 5) & 0x01, 0x01);
  EXPECT_EQ(Read(serial, 2) & 0x0f, 0x04);
  EXPECT_EQ(Read(serial, 0), 'a');
  EXPECT_EQ(Read(serial, 0), 'b');
  EXPECT_EQ(Read(serial, 5) & 0x01, 0x00);
  EXPECT_EQ(Read(serial, 2) & 0x0f, 0x01);
}

TEST_F(SerialFixture, FifoDropsWhatDoesNotFit) {
  std::vector<uint8_t> lots(Serial::kFifoSize + 10, 'z');
  EXPECT_EQ(serial.Enqueue(lots), Serial::kFifoSize);
}

TEST_F(SerialFixture, DivisorLatchAndScratchAndLoopback) {
  Write(serial, 3, 0x80);  // DLAB
  Write(serial, 0, 0x01);
  Write(serial, 1, 0x00);
  EXPECT_EQ(Read(serial, 0), 0x01);
  Write(serial, 3, 0x03);
  EXPECT_EQ(out, "") << "divisor writes are not output";
  Write(serial, 7, 0x5a);
  EXPECT_EQ(Read(serial, 7), 0x5a);
  Write(serial, 4, 0x10 | 0x0a);  // loopback, RTS, OUT2
  EXPECT_EQ(Read(serial, 6) & 0xf0, 0xa0) << "CTS and DCD follow RTS and OUT2";
  Write(serial, 0, 'L');
  EXPECT_EQ(out, "") << "loopback keeps bytes inside";
  EXPECT_EQ(Read(serial, 0), 'L');
}

TEST_F(SerialFixture, FcrTurnsOnFifoBitsInIir) {
  Write(serial, 2, 0x01);
  EXPECT_EQ(Read(serial, 2) & 0xc0, 0xc0);
}

struct I8042Fixture : ::testing::Test {
  std::shared_ptr<CountingIrq> irq = std::make_shared<CountingIrq>();
  int resets = 0;
  I8042 controller{irq, [this] { ++resets; }};
};

TEST_F(I8042Fixture, PulseResetCommandResetsTheMachine) {
  Write(controller, I8042::kCommandOffset, 0xfe);
  EXPECT_EQ(resets, 1);
}

TEST_F(I8042Fixture, OutputPortResetLine) {
  Write(controller, I8042::kCommandOffset, 0xd1);
  Write(controller, I8042::kDataOffset, 0x01);
  EXPECT_EQ(resets, 0);
  Write(controller, I8042::kCommandOffset, 0xd1);
  Write(controller, I8042::kDataOffset, 0x00);
  EXPECT_EQ(resets, 1);
}

TEST_F(I8042Fixture, SelfTestAndControlRegister) {
  Write(controller, I8042::kCommandOffset, 0xaa);
  EXPECT_EQ(Read(controller, I8042::kCommandOffset) & 0x01, 0x01) << "output full";
  EXPECT_EQ(Read(controller, I8042::kDataOffset), 0x55);
  EXPECT_EQ(Read(controller, I8042::kCommandOffset) & 0x01, 0x00);
  Write(controller, I8042::kCommandOffset, 0x60);
  Write(controller, I8042::kDataOffset, 0x45);
  Write(controller, I8042::kCommandOffset, 0x20);
  EXPECT_EQ(Read(controller, I8042::kDataOffset), 0x45);
}

TEST_F(I8042Fixture, CtrlAltDelQueuesScancodesAndInterrupts) {
  controller.SendCtrlAltDel();
  EXPECT_EQ(irq->count, 1);
  std::vector<uint8_t> codes;
  while (Read(controller, I8042::kCommandOffset) & 0x01)
    codes.push_back(Read(controller, I8042::kDataOffset));
  EXPECT_EQ(codes, (std::vector<uint8_t>{0x14, 0x11, 0xe0, 0x71}));
  EXPECT_EQ(irq->count, 4) << "one interrupt per byte";
}

TEST_F(I8042Fixture, KeyboardCommandsAreAcknowledgedWithAnInterrupt) {
  Write(controller, I8042::kDataOffset, 0xf2);  // GETID, for the keyboard
  EXPECT_EQ(irq->count, 1);
  EXPECT_EQ(Read(controller, I8042::kDataOffset), 0xfa);
  Write(controller, I8042::kCommandOffset, 0x60);  // controller commands do not interrupt
  Write(controller, I8042::kDataOffset, 0x00);     // keyboard interrupt off
  Write(controller, I8042::kDataOffset, 0xed);
  EXPECT_EQ(irq->count, 1);
}

TEST(BootMarker, FiresOnlyForTheMagicByte) {
  int hits = 0;
  BootMarker marker([&] { ++hits; });
  Write(marker, 0, 1);
  Write(marker, 4, BootMarker::kMagic);
  EXPECT_EQ(hits, 0);
  Write(marker, 0, BootMarker::kMagic);
  EXPECT_EQ(hits, 1);
}

}  // namespace
}  // namespace hull::vmm::devices
