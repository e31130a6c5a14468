// ttrpc framing: a 10-byte header (4-byte big-endian payload length, 4-byte
// big-endian stream id, 1-byte type, 1-byte flags) followed by the payload.
// FrameDecoder is sans-I/O: bytes go in however the socket splits them and
// whole frames come out, so the framing is testable without sockets.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hull::ttrpc {

inline constexpr size_t kFrameHeaderSize = 10;
// containerd/ttrpc's messageLengthMax: larger frames are refused.
inline constexpr uint32_t kMaxFramePayload = 4u << 20;

enum class FrameType : uint8_t { kRequest = 1, kResponse = 2, kData = 3 };

struct FrameHeader {
  uint32_t length = 0;
  uint32_t stream_id = 0;
  uint8_t type = 0;
  uint8_t flags = 0;
};

std::array<uint8_t, kFrameHeaderSize> EncodeHeader(const FrameHeader& header);
FrameHeader DecodeHeader(std::span<const uint8_t, kFrameHeaderSize> bytes);

// Header + payload, ready to write. Throws TtrpcError(ResourceExhausted) when
// the payload is over kMaxFramePayload.
std::string EncodeFrame(uint32_t stream_id, FrameType type, uint8_t flags, std::string_view payload);

struct DecodedFrame {
  FrameHeader header;
  // True when the header announced more than kMaxFramePayload: the payload was
  // skipped (not buffered) and `payload` is empty. The stream id is still
  // valid, so the receiver can answer with ResourceExhausted as Go ttrpc does.
  bool oversized = false;
  std::string payload;
};

class FrameDecoder {
 public:
  // Consumes all of `bytes`; appends every frame completed by them to `out`.
  void Feed(std::span<const uint8_t> bytes, std::vector<DecodedFrame>& out);
  // True between frames; false while a header or payload is half-received.
  bool AtFrameBoundary() const;
  // For the error when the peer hangs up mid-frame, e.g.
  // "truncated frame: got 4 of 10 header bytes".
  std::string DescribePartial() const;

 private:
  enum class State { kHeader, kPayload, kSkip };
  State state_ = State::kHeader;
  std::array<uint8_t, kFrameHeaderSize> header_bytes_{};
  size_t header_filled_ = 0;
  FrameHeader header_;
  std::string payload_;
  uint64_t skip_left_ = 0;
};

}  // namespace hull::ttrpc
