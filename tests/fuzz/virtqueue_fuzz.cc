// The split-virtqueue walker (vmm/virtio Queue) over fake guest RAM that the
// input fills: descriptor table, available ring, indirect tables and buffers
// are all guest-controlled. Invariants beyond "no ASan/UBSan report": every
// span a chain hands out lies inside guest RAM, a chain has at most
// size + kMaxIndirectDescriptors descriptors, and Pop() returns at most
// what the available index announced.
//
// Input: 8 control bytes, optionally 24 bytes of ring addresses, then the
// guest RAM image (from guest address 0).
//   [0] log2(queue size) (mod 9: 1..256)   [1] bit0 EVENT_IDX, bit1 own ring
//   addresses follow, bit2 undo every other pop   [2] max chains to pop
//   [3..7] reserved
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_check.h"
#include "fuzz_guest_memory.h"
#include "virtio/queue.h"
#include "virtio/virtio_error.h"

using namespace hull;
using vmm::virtio::Queue;

namespace {

uint64_t LoadU64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fuzz::FuzzGuestMemory ram;
  if (size < 8) return 0;
  const uint16_t qsize = static_cast<uint16_t>(1u << (data[0] % 9));
  const bool event_idx = data[1] & 1;
  const bool own_addresses = data[1] & 2;
  const bool undo = data[1] & 4;
  const unsigned max_pops = data[2];
  size_t at = 8;

  Queue q(256);
  q.size = qsize;
  q.desc_addr = 0;
  q.avail_addr = 16ull * qsize;
  q.used_addr = (q.avail_addr + 6 + 2ull * qsize + 3) & ~3ull;
  if (own_addresses) {
    if (size < at + 24) return 0;
    q.desc_addr = LoadU64(data + at);
    q.avail_addr = LoadU64(data + at + 8);
    q.used_addr = LoadU64(data + at + 16);
    at += 24;
  }
  ram.Load({data + at, size - at});
  try {
    q.Activate(ram.memory(), event_idx);
  } catch (const vmm::virtio::VirtioError&) {
    return 0;  // refused configuration: fine
  }
  const uint16_t announced = q.AvailableCount();
  unsigned popped = 0;
  std::vector<uint8_t> scratch(4096);
  try {
    for (unsigned i = 0; i < max_pops; ++i) {
      auto chain = q.Pop();
      if (!chain) break;
      ++popped;
      HULL_FUZZ_CHECK(popped <= announced, "Pop returned more chains than the available index announced");
      HULL_FUZZ_CHECK(chain->head() < qsize, "chain head beyond the queue size");
      const size_t parts = chain->readable().size() + chain->writable().size();
      HULL_FUZZ_CHECK(parts <= qsize + vmm::virtio::kMaxIndirectDescriptors, "chain longer than allowed");
      uint64_t readable = 0, writable = 0;
      for (auto s : chain->readable()) {
        HULL_FUZZ_CHECK(!s.empty() && ram.HostSpanInside(s), "readable span outside guest RAM");
        readable += s.size();
      }
      for (auto s : chain->writable()) {
        HULL_FUZZ_CHECK(!s.empty() && ram.HostSpanInside(s), "writable span outside guest RAM");
        writable += s.size();
      }
      HULL_FUZZ_CHECK(readable == chain->readable_bytes() && writable == chain->writable_bytes(),
                      "chain byte counts disagree with its spans");
      // What a device does with a chain: read a request, write a reply.
      const size_t got = chain->CopyFromReadable(popped % 32, scratch);
      HULL_FUZZ_CHECK(got <= scratch.size() && got <= readable, "CopyFromReadable overran");
      const size_t put = chain->CopyToWritable(popped % 16, {scratch.data(), std::min<size_t>(got, 512)});
      HULL_FUZZ_CHECK(put <= writable, "CopyToWritable overran");
      if (undo && popped % 2 == 1) {
        q.UndoPop();
        --popped;
        if (i % 4 == 3) break;  // don't spin on the same chain
        continue;
      }
      q.AddUsed(chain->head(), static_cast<uint32_t>(put));
      (void)q.NeedsInterrupt();
    }
    (void)q.EnableNotification();
    (void)q.AvailableCount();
  } catch (const vmm::virtio::VirtioError&) {
    // A malformed chain or ring: the device fails the queue. Fine.
  }
  return 0;
}
