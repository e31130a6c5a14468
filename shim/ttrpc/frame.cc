#include "ttrpc/frame.h"

#include <algorithm>

#include "ttrpc/status.h"

namespace hull::ttrpc {

namespace {
void PutBigEndian32(uint8_t* out, uint32_t value) {
  out[0] = static_cast<uint8_t>(value >> 24);
  out[1] = static_cast<uint8_t>(value >> 16);
  out[2] = static_cast<uint8_t>(value >> 8);
  out[3] = static_cast<uint8_t>(value);
}

uint32_t GetBigEndian32(const uint8_t* in) {
  return (uint32_t{in[0]} << 24) | (uint32_t{in[1]} << 16) | (uint32_t{in[2]} << 8) | uint32_t{in[3]};
}
}  // namespace

std::array<uint8_t, kFrameHeaderSize> EncodeHeader(const FrameHeader& header) {
  std::array<uint8_t, kFrameHeaderSize> out{};
  PutBigEndian32(out.data(), header.length);
  PutBigEndian32(out.data() + 4, header.stream_id);
  out[8] = header.type;
  out[9] = header.flags;
  return out;
}

FrameHeader DecodeHeader(std::span<const uint8_t, kFrameHeaderSize> bytes) {
  return FrameHeader{.length = GetBigEndian32(bytes.data()),
                     .stream_id = GetBigEndian32(bytes.data() + 4),
                     .type = bytes[8],
                     .flags = bytes[9]};
}

std::string EncodeFrame(uint32_t stream_id, FrameType type, uint8_t flags, std::string_view payload) {
  if (payload.size() > kMaxFramePayload) {
    throw TtrpcError(Code::kResourceExhausted, "message of " + std::to_string(payload.size()) +
                                                   " bytes exceeds the ttrpc maximum of " +
                                                   std::to_string(kMaxFramePayload) + " bytes");
  }
  auto header = EncodeHeader(FrameHeader{.length = static_cast<uint32_t>(payload.size()),
                                         .stream_id = stream_id,
                                         .type = static_cast<uint8_t>(type),
                                         .flags = flags});
  std::string out;
  out.reserve(kFrameHeaderSize + payload.size());
  out.append(reinterpret_cast<const char*>(header.data()), header.size());
  out.append(payload);
  return out;
}

void FrameDecoder::Feed(std::span<const uint8_t> bytes, std::vector<DecodedFrame>& out) {
  while (!bytes.empty()) {
    switch (state_) {
      case State::kHeader: {
        size_t take = std::min(bytes.size(), kFrameHeaderSize - header_filled_);
        std::copy_n(bytes.begin(), take, header_bytes_.begin() + static_cast<ptrdiff_t>(header_filled_));
        header_filled_ += take;
        bytes = bytes.subspan(take);
        if (header_filled_ < kFrameHeaderSize) break;
        header_filled_ = 0;
        header_ = DecodeHeader(header_bytes_);
        if (header_.length > kMaxFramePayload) {
          skip_left_ = header_.length;
          state_ = State::kSkip;
        } else if (header_.length == 0) {
          out.push_back(DecodedFrame{.header = header_, .oversized = false, .payload = {}});
        } else {
          payload_.clear();
          payload_.reserve(header_.length);
          state_ = State::kPayload;
        }
        break;
      }
      case State::kPayload: {
        size_t take = std::min<size_t>(bytes.size(), header_.length - payload_.size());
        payload_.append(reinterpret_cast<const char*>(bytes.data()), take);
        bytes = bytes.subspan(take);
        if (payload_.size() == header_.length) {
          out.push_back(DecodedFrame{.header = header_, .oversized = false, .payload = std::move(payload_)});
          payload_ = {};
          state_ = State::kHeader;
        }
        break;
      }
      case State::kSkip: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(bytes.size(), skip_left_));
        skip_left_ -= take;
        bytes = bytes.subspan(take);
        if (skip_left_ == 0) {
          out.push_back(DecodedFrame{.header = header_, .oversized = true, .payload = {}});
          state_ = State::kHeader;
        }
        break;
      }
    }
  }
}

bool FrameDecoder::AtFrameBoundary() const { return state_ == State::kHeader && header_filled_ == 0; }

std::string FrameDecoder::DescribePartial() const {
  switch (state_) {
    case State::kHeader:
      return "truncated frame: got " + std::to_string(header_filled_) + " of " +
             std::to_string(kFrameHeaderSize) + " header bytes";
    case State::kPayload:
      return "truncated frame on stream " + std::to_string(header_.stream_id) + ": got " +
             std::to_string(payload_.size()) + " of " + std::to_string(header_.length) + " payload bytes";
    case State::kSkip:
      return "truncated oversized frame on stream " + std::to_string(header_.stream_id) + ": " +
             std::to_string(skip_left_) + " of " + std::to_string(header_.length) + " bytes never arrived";
  }
  return "truncated frame";
}

}  // namespace hull::ttrpc
