// Counts of vCPU exits by reason, updated lock-free by the vCPU threads.
#pragma once

#include <atomic>
#include <cstdint>

namespace hull::vmm {

struct ExitMetrics {
  std::atomic<uint64_t> pio_in{0};
  std::atomic<uint64_t> pio_out{0};
  std::atomic<uint64_t> mmio_read{0};
  std::atomic<uint64_t> mmio_write{0};
  std::atomic<uint64_t> unhandled_pio{0};   // no device at that port
  std::atomic<uint64_t> unhandled_mmio{0};  // no device at that address
  std::atomic<uint64_t> interrupted{0};     // signals: pause, stop
  std::atomic<uint64_t> other{0};
};

}  // namespace hull::vmm
