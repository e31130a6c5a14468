// Framing: header layout, split reads, oversized and truncated frames.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "google/rpc/status.pb.h"
#include "ttrpc/connection.h"
#include "ttrpc/frame.h"
#include "ttrpc/status.h"

namespace hull::ttrpc {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(TtrpcFrame, HeaderIsBigEndianLengthStreamTypeFlags) {
  auto bytes = EncodeHeader(FrameHeader{.length = 0x01020304, .stream_id = 0x0a0b0c0d, .type = 2, .flags = 0x80});
  std::array<uint8_t, 10> expected = {1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d, 2, 0x80};
  EXPECT_EQ(bytes, expected);
  FrameHeader back = DecodeHeader(bytes);
  EXPECT_EQ(back.length, 0x01020304u);
  EXPECT_EQ(back.stream_id, 0x0a0b0c0du);
  EXPECT_EQ(back.type, 2);
  EXPECT_EQ(back.flags, 0x80);
}

TEST(TtrpcFrame, EncodeFramePrefixesHeader) {
  std::string frame = EncodeFrame(7, FrameType::kRequest, 0, "abc");
  ASSERT_EQ(frame.size(), kFrameHeaderSize + 3);
  EXPECT_EQ(frame.substr(0, 10), std::string("\0\0\0\3\0\0\0\7\1\0", 10));
  EXPECT_EQ(frame.substr(10), "abc");
}

TEST(TtrpcFrame, EncodeRefusesPayloadOverFourMiB) {
  std::string big(kMaxFramePayload + 1, 'x');
  try {
    EncodeFrame(1, FrameType::kRequest, 0, big);
    FAIL() << "oversized payload was encoded";
  } catch (const TtrpcError& e) {
    EXPECT_EQ(e.code(), Code::kResourceExhausted);
    EXPECT_NE(std::string(e.what()).find("4194304"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(EncodeFrame(1, FrameType::kRequest, 0, std::string(kMaxFramePayload, 'y')));
}

TEST(TtrpcFrame, DecoderHandlesEverySplitPoint) {
  std::string stream = EncodeFrame(1, FrameType::kRequest, 0, "first payload") +
                       EncodeFrame(3, FrameType::kResponse, 1, "") +
                       EncodeFrame(5, FrameType::kData, 2, std::string(300, 'z'));
  for (size_t split = 0; split <= stream.size(); ++split) {
    FrameDecoder decoder;
    std::vector<DecodedFrame> frames;
    decoder.Feed(Bytes(stream.substr(0, split)), frames);
    decoder.Feed(Bytes(stream.substr(split)), frames);
    ASSERT_EQ(frames.size(), 3u) << "split at " << split;
    EXPECT_EQ(frames[0].header.stream_id, 1u);
    EXPECT_EQ(frames[0].payload, "first payload");
    EXPECT_EQ(frames[1].header.stream_id, 3u);
    EXPECT_EQ(frames[1].header.flags, 1);
    EXPECT_TRUE(frames[1].payload.empty());
    EXPECT_EQ(frames[2].header.type, static_cast<uint8_t>(FrameType::kData));
    EXPECT_EQ(frames[2].payload, std::string(300, 'z'));
    EXPECT_TRUE(decoder.AtFrameBoundary());
  }
}

TEST(TtrpcFrame, DecoderOneByteAtATime) {
  std::string stream = EncodeFrame(9, FrameType::kRequest, 0, "hello") + EncodeFrame(11, FrameType::kRequest, 0, "world");
  FrameDecoder decoder;
  std::vector<DecodedFrame> frames;
  for (char c : stream) {
    std::string one(1, c);
    decoder.Feed(Bytes(one), frames);
  }
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].payload, "hello");
  EXPECT_EQ(frames[1].payload, "world");
}

TEST(TtrpcFrame, OversizedFrameIsSkippedAndNextFrameStillDecodes) {
  const uint32_t big = kMaxFramePayload + 10;
  auto header = EncodeHeader(FrameHeader{.length = big, .stream_id = 5, .type = 1, .flags = 0});
  std::string stream(reinterpret_cast<const char*>(header.data()), header.size());
  stream += std::string(big, 'q');
  stream += EncodeFrame(7, FrameType::kRequest, 0, "after");
  FrameDecoder decoder;
  std::vector<DecodedFrame> frames;
  // Feed in 64 KiB pieces, as a socket would deliver them.
  for (size_t off = 0; off < stream.size(); off += 65536) decoder.Feed(Bytes(stream.substr(off, 65536)), frames);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(frames[0].oversized);
  EXPECT_EQ(frames[0].header.stream_id, 5u);
  EXPECT_EQ(frames[0].header.length, big);
  EXPECT_TRUE(frames[0].payload.empty());
  EXPECT_FALSE(frames[1].oversized);
  EXPECT_EQ(frames[1].payload, "after");
}

TEST(TtrpcFrame, TruncatedInputIsDescribed) {
  std::string frame = EncodeFrame(3, FrameType::kRequest, 0, "0123456789");
  FrameDecoder in_header;
  std::vector<DecodedFrame> frames;
  in_header.Feed(Bytes(frame.substr(0, 4)), frames);
  EXPECT_FALSE(in_header.AtFrameBoundary());
  EXPECT_EQ(in_header.DescribePartial(), "truncated frame: got 4 of 10 header bytes");

  FrameDecoder in_payload;
  in_payload.Feed(Bytes(frame.substr(0, 13)), frames);
  EXPECT_TRUE(frames.empty());
  EXPECT_EQ(in_payload.DescribePartial(), "truncated frame on stream 3: got 3 of 10 payload bytes");
}

TEST(TtrpcAddress, AcceptsUnixSchemeAndPlainPaths) {
  EXPECT_EQ(UnixSocketPath("unix:///run/containerd/s/abc"), "/run/containerd/s/abc");
  EXPECT_EQ(UnixSocketPath("/run/containerd/containerd.sock.ttrpc"), "/run/containerd/containerd.sock.ttrpc");
  EXPECT_EQ(UnixSocketPath("@hull"), std::string("\0hull", 5));
  EXPECT_THROW(UnixSocketPath("tcp://127.0.0.1:1"), TtrpcError);
  EXPECT_THROW(UnixSocketPath(""), TtrpcError);
  EXPECT_THROW(UnixSocketPath("/" + std::string(200, 'a')), TtrpcError);
}

TEST(TtrpcStatus, UnknownPeerCodesBecomeUnknown) {
  google::rpc::Status wire;
  wire.set_code(99);
  wire.set_message("odd");
  Status status = Status::FromProto(wire);
  EXPECT_EQ(status.code, Code::kUnknown);
  EXPECT_EQ(status.message, "peer sent status code 99: odd");
  wire.set_code(12);
  EXPECT_EQ(Status::FromProto(wire).ToString(), "Unimplemented: odd");
}

}  // namespace
}  // namespace hull::ttrpc
