// ttrpc framing (shim/ttrpc FrameDecoder), fed the way a socket splits a
// stream: the input's first bytes choose chunk sizes. Invariants: the frames
// do not depend on how the bytes were split; every frame's payload has the
// header's length (or is empty and marked oversized past the 4 MiB limit);
// re-encoding the frames gives back the consumed bytes; a decoder left
// mid-frame says so.
//
// Input: 4 bytes of chunk sizes (each 1..256), then the byte stream.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "ttrpc/frame.h"

using namespace hull::ttrpc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const std::span<const uint8_t> stream(data + 4, size - 4);

  FrameDecoder whole;
  std::vector<DecodedFrame> at_once;
  whole.Feed(stream, at_once);

  FrameDecoder chunked;
  std::vector<DecodedFrame> in_pieces;
  for (size_t at = 0, i = 0; at < stream.size(); ++i) {
    const size_t n = std::min<size_t>(stream.size() - at, 1 + data[i % 4]);
    chunked.Feed(stream.subspan(at, n), in_pieces);
    at += n;
  }
  HULL_FUZZ_CHECK(at_once.size() == in_pieces.size(), "frame count depends on the chunking");
  HULL_FUZZ_CHECK(whole.AtFrameBoundary() == chunked.AtFrameBoundary(), "boundary state depends on the chunking");

  std::string reencoded;
  for (size_t i = 0; i < at_once.size(); ++i) {
    const DecodedFrame& a = at_once[i];
    const DecodedFrame& b = in_pieces[i];
    HULL_FUZZ_CHECK(a.payload == b.payload && a.oversized == b.oversized && a.header.stream_id == b.header.stream_id &&
                        a.header.type == b.header.type && a.header.flags == b.header.flags &&
                        a.header.length == b.header.length,
                    "frame contents depend on the chunking");
    if (a.oversized) {
      HULL_FUZZ_CHECK(a.payload.empty() && a.header.length > kMaxFramePayload, "oversized frame misreported");
      return 0;  // its skipped payload is not re-encodable; the rest was checked above
    }
    HULL_FUZZ_CHECK(a.payload.size() == a.header.length, "payload length differs from the header");
    reencoded += EncodeFrame(a.header.stream_id, static_cast<FrameType>(a.header.type), a.header.flags, a.payload);
  }
  HULL_FUZZ_CHECK(reencoded.size() <= stream.size() &&
                      std::equal(reencoded.begin(), reencoded.end(), reinterpret_cast<const char*>(stream.data())),
                  "re-encoded frames differ from the input");
  HULL_FUZZ_CHECK(whole.AtFrameBoundary() == (reencoded.size() == stream.size()),
                  "decoder boundary state disagrees with the bytes consumed");
  if (!whole.AtFrameBoundary()) HULL_FUZZ_CHECK(!whole.DescribePartial().empty(), "no description of a partial frame");
  return 0;
}
