#include "virtio/mmio_transport.h"

#include <linux/virtio_mmio.h>

#include <cstdio>
#include <cstring>

namespace hull::vmm::virtio {
namespace {

constexpr uint32_t kMagic = 0x74726976;  // "virt"
constexpr uint32_t kVersion = 2;
constexpr uint32_t kVendor = 0x4c4c5548;  // "HULL"
constexpr uint64_t kConfigOffset = 0x100;

uint32_t Low(uint64_t v) { return static_cast<uint32_t>(v); }
uint32_t High(uint64_t v) { return static_cast<uint32_t>(v >> 32); }
void SetLow(uint64_t& v, uint32_t x) { v = (v & 0xffffffff00000000ull) | x; }
void SetHigh(uint64_t& v, uint32_t x) { v = (v & 0xffffffffull) | (uint64_t{x} << 32); }

}  // namespace

MmioTransport::MmioTransport(std::shared_ptr<VirtioDevice> device, const GuestMemory& memory,
                             std::shared_ptr<IrqLine> irq, std::shared_ptr<io::EventLoop> loop, uint64_t mmio_base,
                             IoEventRegistrar* ioevents)
    : loop_(std::move(loop)), irq_(std::move(irq)), device_(std::move(device)), mmio_base_(mmio_base) {
  device_->Attach(memory, *irq_);
  const size_t n = device_->queues().size();
  for (size_t i = 0; i < n; ++i) {
    doorbells_.push_back(std::make_unique<io::EventFd>());
    const io::EventFd* bell = doorbells_.back().get();
    VirtioDevice* dev = device_.get();
    loop_->Add(bell->fd(), EPOLLIN, [bell, dev, i](uint32_t) {
      bell->Consume();
      dev->HandleQueueNotify(i);
    });
    if (ioevents != nullptr) {
      ioevents->RegisterIoEvent(mmio_base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, i, bell->fd());
    }
  }
}

MmioTransport::~MmioTransport() {
  for (auto& bell : doorbells_) loop_->Remove(bell->fd());
}

std::string MmioTransport::KernelCommandLineArg(uint64_t base, uint32_t irq) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "virtio_mmio.device=4K@0x%llx:%u", static_cast<unsigned long long>(base), irq);
  return buf;
}

Queue* MmioTransport::SelectedQueue() {
  auto& queues = device_->queues();
  return queue_select_ < queues.size() ? &queues[queue_select_] : nullptr;
}

void MmioTransport::Read(uint64_t offset, std::span<uint8_t> data) {
  std::lock_guard lock(device_->mutex());
  if (offset >= kConfigOffset) {
    device_->ReadConfig(offset - kConfigOffset, data);
    return;
  }
  // Registers are 32-bit and aligned (4.2.2.2); anything else reads as 0.
  if (data.size() != 4 || offset % 4 != 0) return;
  const uint32_t value = ReadRegister(offset);
  std::memcpy(data.data(), &value, 4);
}

void MmioTransport::Write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset == VIRTIO_MMIO_QUEUE_NOTIFY && data.size() == 4) {
    // Hot path, no lock: ring the doorbell, let the I/O thread work.
    uint32_t index;
    std::memcpy(&index, data.data(), 4);
    if (index < doorbells_.size()) doorbells_[index]->Signal();
    return;
  }
  std::lock_guard lock(device_->mutex());
  if (offset >= kConfigOffset) {
    device_->WriteConfig(offset - kConfigOffset, data);
    return;
  }
  if (data.size() != 4 || offset % 4 != 0) return;
  uint32_t value;
  std::memcpy(&value, data.data(), 4);
  WriteRegister(offset, value);
}

uint32_t MmioTransport::ReadRegister(uint64_t offset) {
  VirtioDevice& dev = *device_;
  Queue* q = SelectedQueue();
  switch (offset) {
    case VIRTIO_MMIO_MAGIC_VALUE:
      return kMagic;
    case VIRTIO_MMIO_VERSION:
      return kVersion;
    case VIRTIO_MMIO_DEVICE_ID:
      return dev.device_type();
    case VIRTIO_MMIO_VENDOR_ID:
      return kVendor;
    case VIRTIO_MMIO_DEVICE_FEATURES:
      if (device_features_select_ > 1) return 0;
      return static_cast<uint32_t>(dev.device_features() >> (32 * device_features_select_));
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
      return q ? q->max_size() : 0;
    case VIRTIO_MMIO_QUEUE_READY:
      return q ? q->ready : 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS:
      return dev.interrupt_status();
    case VIRTIO_MMIO_STATUS:
      return dev.status();
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
      return q ? Low(q->desc_addr) : 0;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
      return q ? High(q->desc_addr) : 0;
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
      return q ? Low(q->avail_addr) : 0;
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
      return q ? High(q->avail_addr) : 0;
    case VIRTIO_MMIO_QUEUE_USED_LOW:
      return q ? Low(q->used_addr) : 0;
    case VIRTIO_MMIO_QUEUE_USED_HIGH:
      return q ? High(q->used_addr) : 0;
    case VIRTIO_MMIO_CONFIG_GENERATION:
      return dev.config_generation();
    default:
      return 0;
  }
}

void MmioTransport::WriteRegister(uint64_t offset, uint32_t value) {
  VirtioDevice& dev = *device_;
  Queue* q = SelectedQueue();
  // Queue layout may only change while the queue is not ready and the device
  // not yet live (4.2.2.3.2); later writes are ignored.
  const bool queue_writable = q != nullptr && !q->ready && !dev.active() && !dev.failed();
  switch (offset) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
      device_features_select_ = value;
      break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
      dev.WriteDriverFeatures(driver_features_select_, value);
      break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
      driver_features_select_ = value;
      break;
    case VIRTIO_MMIO_QUEUE_SEL:
      queue_select_ = value;
      break;
    case VIRTIO_MMIO_QUEUE_NUM:
      // Checked (power of two, <= max) when the device activates.
      if (queue_writable) q->size = static_cast<uint16_t>(value > 0xffff ? 0 : value);
      break;
    case VIRTIO_MMIO_QUEUE_READY:
      if (q != nullptr && !dev.active()) q->ready = value == 1;
      break;
    case VIRTIO_MMIO_INTERRUPT_ACK:
      dev.AckInterrupt(value);
      break;
    case VIRTIO_MMIO_STATUS:
      dev.WriteStatus(value);
      break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
      if (queue_writable) SetLow(q->desc_addr, value);
      break;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
      if (queue_writable) SetHigh(q->desc_addr, value);
      break;
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
      if (queue_writable) SetLow(q->avail_addr, value);
      break;
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
      if (queue_writable) SetHigh(q->avail_addr, value);
      break;
    case VIRTIO_MMIO_QUEUE_USED_LOW:
      if (queue_writable) SetLow(q->used_addr, value);
      break;
    case VIRTIO_MMIO_QUEUE_USED_HIGH:
      if (queue_writable) SetHigh(q->used_addr, value);
      break;
    default:
      break;
  }
}

}  // namespace hull::vmm::virtio
