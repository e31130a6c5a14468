// The PL011 UART against the register protocol of Linux's amba-pl011 driver
// and the pl011 earlycon.
#include <gtest/gtest.h>

#include <string>

#include "devices/legacy/pl011.h"

namespace hull::vmm::devices {
namespace {

class CountingIrq : public IrqLine {
 public:
  void Trigger() override { ++count; }
  int count = 0;
};

uint32_t Read32(IoHandler& d, uint64_t offset) {
  uint8_t b[4] = {};
  d.Read(offset, b);
  return b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t{b[3]} << 24);
}
uint16_t Read16(IoHandler& d, uint64_t offset) {
  uint8_t b[2] = {};
  d.Read(offset, b);
  return static_cast<uint16_t>(b[0] | (b[1] << 8));
}
void Write32(IoHandler& d, uint64_t offset, uint32_t v) {
  uint8_t b[4] = {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
  d.Write(offset, b);
}
void Write8(IoHandler& d, uint64_t offset, uint8_t v) { d.Write(offset, {&v, 1}); }

struct Pl011Fixture : ::testing::Test {
  std::shared_ptr<CountingIrq> irq = std::make_shared<CountingIrq>();
  std::string out;
  Pl011 uart{irq, [this](std::span<const uint8_t> b) { out.append(b.begin(), b.end()); }};
  void Input(const std::string& s) {
    uart.Enqueue({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  }
};

TEST_F(Pl011Fixture, IdRegistersIdentifyAPrimeCellPl011) {
  // The AMBA bus accepts the device only with PrimeCell ID 0xb105f00d and
  // binds amba-pl011 by peripheral ID 0x00?41011.
  uint32_t cid = 0, pid = 0;
  for (int i = 0; i < 4; ++i) {
    cid |= (Read32(uart, Pl011::kPrimeCellId0 + 4 * i) & 0xff) << (8 * i);
    pid |= (Read32(uart, Pl011::kPeriphId0 + 4 * i) & 0xff) << (8 * i);
  }
  EXPECT_EQ(cid, 0xb105f00du);
  EXPECT_EQ(pid & 0x000fffff, 0x41011u) << "part 0x011, designer ARM (0x41)";
}

TEST_F(Pl011Fixture, EarlyconByteWritesGoOutAndFlagsShowAnIdleTransmitter) {
  const uint32_t fr = Read32(uart, Pl011::kFr);
  EXPECT_TRUE(fr & Pl011::kFrTxEmpty);
  EXPECT_FALSE(fr & Pl011::kFrTxFull);
  EXPECT_FALSE(fr & Pl011::kFrBusy);
  EXPECT_TRUE(fr & Pl011::kFrRxEmpty);
  for (char c : std::string("hi\n")) Write8(uart, Pl011::kDr, static_cast<uint8_t>(c));
  EXPECT_EQ(out, "hi\n");
  EXPECT_EQ(irq->count, 0) << "no interrupt while IMSC is 0";
}

TEST_F(Pl011Fixture, ControlAndBaudRegistersKeepWhatIsWritten) {
  EXPECT_EQ(Read32(uart, Pl011::kCr), 0x300u) << "reset value: TXE | RXE";
  EXPECT_EQ(Read32(uart, Pl011::kIfls), 0x12u);
  Write32(uart, Pl011::kIbrd, 0x1a);
  Write32(uart, Pl011::kFbrd, 0x3);
  Write32(uart, Pl011::kLcrH, 0x70);  // 8 bits, FIFO on
  Write32(uart, Pl011::kCr, 0x301);   // UARTEN | TXE | RXE
  EXPECT_EQ(Read32(uart, Pl011::kIbrd), 0x1au);
  EXPECT_EQ(Read32(uart, Pl011::kFbrd), 0x3u);
  EXPECT_EQ(Read32(uart, Pl011::kLcrH), 0x70u);
  EXPECT_EQ(Read32(uart, Pl011::kCr), 0x301u);
  EXPECT_EQ(Read16(uart, Pl011::kCr), 0x301u) << "16-bit accesses (UPIO_MEM) work too";
  Write32(uart, Pl011::kFbrd, 0xff);
  EXPECT_EQ(Read32(uart, Pl011::kFbrd), 0x3fu) << "FBRD is 6 bits";
}

TEST_F(Pl011Fixture, ReceiveRaisesTheRxInterruptWhenUnmaskedAndReadingClearsIt) {
  Write32(uart, Pl011::kLcrH, 0x70);
  Input("ab");
  EXPECT_EQ(irq->count, 0) << "masked";
  EXPECT_EQ(Read32(uart, Pl011::kRis) & Pl011::kIntRx, Pl011::kIntRx);
  EXPECT_EQ(Read32(uart, Pl011::kMis), 0u);
  // What pl011_enable_interrupts does: clear, then unmask RX and RX timeout.
  Write32(uart, Pl011::kIcr, Pl011::kIntRx | Pl011::kIntRxTimeout);
  Write32(uart, Pl011::kImsc, Pl011::kIntRx | Pl011::kIntRxTimeout);
  EXPECT_EQ(irq->count, 1) << "pending data interrupts as soon as it is unmasked";
  EXPECT_EQ(Read32(uart, Pl011::kMis), Pl011::kIntRx | Pl011::kIntRxTimeout);
  EXPECT_FALSE(Read32(uart, Pl011::kFr) & Pl011::kFrRxEmpty);
  EXPECT_EQ(Read32(uart, Pl011::kDr), uint32_t{'a'});
  EXPECT_EQ(Read32(uart, Pl011::kDr), uint32_t{'b'});
  EXPECT_TRUE(Read32(uart, Pl011::kFr) & Pl011::kFrRxEmpty);
  EXPECT_EQ(Read32(uart, Pl011::kMis), 0u) << "drained FIFO: nothing pending";
  Input("c");
  EXPECT_EQ(irq->count, 2) << "new data after the FIFO drained: a new edge";
  Input("d");
  EXPECT_EQ(irq->count, 2) << "still pending: the handler's MIS loop picks it up";
  EXPECT_EQ(Read32(uart, Pl011::kDr), uint32_t{'c'});
  EXPECT_EQ(Read32(uart, Pl011::kDr), uint32_t{'d'});
}

TEST_F(Pl011Fixture, FifoHoldsThirtyTwoBytesWhenEnabledAndOneWhenNot) {
  EXPECT_EQ(uart.Enqueue({reinterpret_cast<const uint8_t*>("xyz"), 3}), 1u) << "FIFO off: 1 deep";
  EXPECT_TRUE(Read32(uart, Pl011::kFr) & Pl011::kFrRxFull);
  EXPECT_EQ(Read32(uart, Pl011::kDr), uint32_t{'x'});
  Write32(uart, Pl011::kLcrH, 0x70);
  const std::string many(40, 'q');
  EXPECT_EQ(uart.Enqueue({reinterpret_cast<const uint8_t*>(many.data()), many.size()}), 32u);
  EXPECT_TRUE(Read32(uart, Pl011::kFr) & Pl011::kFrRxFull);
  Write32(uart, Pl011::kLcrH, 0x60);  // FIFO off flushes it
  EXPECT_TRUE(Read32(uart, Pl011::kFr) & Pl011::kFrRxEmpty);
}

TEST_F(Pl011Fixture, TransmitInterruptLatchesOnSendAndClearsThroughIcr) {
  Write32(uart, Pl011::kImsc, Pl011::kIntTx);
  EXPECT_EQ(irq->count, 0);
  Write8(uart, Pl011::kDr, 'x');
  EXPECT_EQ(irq->count, 1);
  EXPECT_EQ(Read32(uart, Pl011::kMis), Pl011::kIntTx);
  Write32(uart, Pl011::kIcr, Pl011::kIntTx);
  EXPECT_EQ(Read32(uart, Pl011::kMis), 0u);
  Write8(uart, Pl011::kDr, 'y');
  EXPECT_EQ(irq->count, 2);
  EXPECT_EQ(out, "xy");
}

TEST_F(Pl011Fixture, LoopbackSendsTransmittedBytesToTheReceiver) {
  Write32(uart, Pl011::kLcrH, 0x70);
  Write32(uart, Pl011::kCr, 0x381);  // UARTEN | LBE | TXE | RXE
  Write8(uart, Pl011::kDr, 'L');
  EXPECT_EQ(out, "");
  EXPECT_EQ(Read32(uart, Pl011::kDr), uint32_t{'L'});
  EXPECT_EQ(uart.Enqueue({reinterpret_cast<const uint8_t*>("h"), 1}), 0u) << "line disconnected";
}

TEST_F(Pl011Fixture, UnalignedAndOversizedAccessesAreIgnored) {
  Write32(uart, Pl011::kIbrd + 1, 0x55);
  EXPECT_EQ(Read32(uart, Pl011::kIbrd), 0u);
  uint8_t eight[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  uart.Write(Pl011::kIbrd, eight);
  EXPECT_EQ(Read32(uart, Pl011::kIbrd), 0u);
  Write32(uart, 0x800, 0xdead);  // reserved space
  EXPECT_EQ(Read32(uart, 0x800), 0u);
}

}  // namespace
}  // namespace hull::vmm::devices
