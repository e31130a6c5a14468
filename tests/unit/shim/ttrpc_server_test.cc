// Server and client over real unix sockets: dispatch, status codes, deadlines,
// metadata, concurrent streams and misbehaving peers (raw frames).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <limits>
#include <thread>
#include <vector>

#include "google/protobuf/wrappers.pb.h"
#include "ttrpc/client.h"
#include "ttrpc/frame.h"
#include "ttrpc/server.h"
#include "ttrpc/ttrpc.pb.h"

namespace hull::ttrpc {
namespace {

using namespace std::chrono_literals;

class TtrpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-ttrpc-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    socket_ = dir_ + "/ttrpc.sock";
    server_ = std::make_unique<Server>();
    server_->Register("test.Echo", "Echo", [](const CallContext&, const std::string& payload) { return payload; });
    server_->Register("test.Echo", "Fail", [](const CallContext&, const std::string&) -> std::string {
      throw TtrpcError(Code::kNotFound, "container abc not found");
    });
    server_->Register("test.Echo", "Throw", [](const CallContext&, const std::string&) -> std::string {
      throw std::runtime_error("plain exception");
    });
    server_->Register("test.Echo", "Metadata", [](const CallContext& ctx, const std::string&) {
      std::string out;
      for (const auto& [k, v] : ctx.metadata) out += k + "=" + v + ";";
      if (ctx.deadline != CallContext::Clock::time_point::max()) out += "deadline";
      return out;
    });
    server_->Register("test.Echo", "BlockUntilCancelled", [this](const CallContext& ctx, const std::string&) {
      while (!ctx.WaitCancelled(10ms)) {
      }
      saw_cancel_ = true;
      return std::string("late");
    });
    server_->RegisterUnary<google::protobuf::StringValue, google::protobuf::StringValue>(
        "test.Typed", "Upper", [](const CallContext&, const google::protobuf::StringValue& in) {
          google::protobuf::StringValue out;
          std::string s = in.value();
          for (auto& c : s) c = static_cast<char>(toupper(c));
          out.set_value(s);
          return out;
        });
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Start() {
    server_->Listen(socket_);
    server_->Start();
  }

  std::string dir_;
  std::string socket_;
  std::unique_ptr<Server> server_;
  std::atomic<bool> saw_cancel_{false};
};

Code CallCode(Client& client, const std::string& service, const std::string& method, std::string* message = nullptr,
              const CallOptions& options = {}) {
  try {
    client.Call(service, method, "x", options);
    return Code::kOk;
  } catch (const TtrpcError& e) {
    if (message) *message = e.status().message;
    return e.code();
  }
}

TEST_F(TtrpcServerTest, EchoRoundTrip) {
  Start();
  Client client(socket_);
  EXPECT_EQ(client.Call("test.Echo", "Echo", "hello"), "hello");
  EXPECT_EQ(client.Call("test.Echo", "Echo", ""), "");
  std::string big(1 << 20, 'b');
  EXPECT_EQ(client.Call("test.Echo", "Echo", big), big);
}

TEST_F(TtrpcServerTest, TypedUnaryMethod) {
  Start();
  Client client("unix://" + socket_);
  google::protobuf::StringValue in;
  in.set_value("hull");
  auto out = client.Call<google::protobuf::StringValue>("test.Typed", "Upper", in);
  EXPECT_EQ(out.value(), "HULL");
  // A payload that is not the request type is InvalidArgument.
  std::string message;
  EXPECT_EQ(CallCode(client, "test.Typed", "Upper", &message), Code::kInvalidArgument);
  EXPECT_NE(message.find("google.protobuf.StringValue"), std::string::npos) << message;
}

TEST_F(TtrpcServerTest, UnknownServiceAndMethodAreUnimplemented) {
  Start();
  Client client(socket_);
  std::string message;
  EXPECT_EQ(CallCode(client, "no.Such", "Echo", &message), Code::kUnimplemented);
  EXPECT_EQ(message, "service no.Such");
  EXPECT_EQ(CallCode(client, "test.Echo", "Nope", &message), Code::kUnimplemented);
  EXPECT_EQ(message, "method Nope");
  // The connection is still usable afterwards.
  EXPECT_EQ(client.Call("test.Echo", "Echo", "still here"), "still here");
}

TEST_F(TtrpcServerTest, HandlerErrorsBecomeStatuses) {
  Start();
  Client client(socket_);
  std::string message;
  EXPECT_EQ(CallCode(client, "test.Echo", "Fail", &message), Code::kNotFound);
  EXPECT_EQ(message, "container abc not found");
  EXPECT_EQ(CallCode(client, "test.Echo", "Throw", &message), Code::kUnknown);
  EXPECT_EQ(message, "plain exception");
}

TEST_F(TtrpcServerTest, MetadataAndDeadlineReachTheHandler) {
  Start();
  Client client(socket_);
  CallOptions options;
  options.metadata = {{"k1", "v1"}, {"k2", "v2"}};
  options.timeout = 5s;
  EXPECT_EQ(client.Call("test.Echo", "Metadata", "", options), "k1=v1;k2=v2;deadline");
  EXPECT_EQ(client.Call("test.Echo", "Metadata", ""), "");
}

TEST_F(TtrpcServerTest, DeadlineExceededAndHandlerCancelled) {
  Start();
  Client client(socket_);
  CallOptions options;
  options.timeout = 100ms;
  auto start = std::chrono::steady_clock::now();
  std::string message;
  EXPECT_EQ(CallCode(client, "test.Echo", "BlockUntilCancelled", &message, options), Code::kDeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  for (int i = 0; i < 200 && !saw_cancel_; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(saw_cancel_);
  EXPECT_EQ(client.Call("test.Echo", "Echo", "after"), "after");
}

TEST_F(TtrpcServerTest, ConcurrentStreamsDoNotBlockEachOther) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  server_->Register("test.Echo", "Slow", [released](const CallContext&, const std::string& p) {
    released.wait();
    return p;
  });
  Start();
  Client client(socket_);
  auto slow = std::async(std::launch::async, [&] { return client.Call("test.Echo", "Slow", "slow"); });
  // While Slow is parked, many threads share the connection.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string payload = std::to_string(t) + ":" + std::to_string(i);
        if (client.Call("test.Echo", "Echo", payload) == payload) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok, 400);
  EXPECT_EQ(slow.wait_for(0s), std::future_status::timeout);
  release.set_value();
  EXPECT_EQ(slow.get(), "slow");
}

TEST_F(TtrpcServerTest, ClientSeesUnavailableWhenServerGoes) {
  Start();
  Client client(socket_);
  auto blocked = std::async(std::launch::async, [&] {
    std::string message;
    return CallCode(client, "test.Echo", "BlockUntilCancelled", &message);
  });
  std::this_thread::sleep_for(50ms);
  server_->Shutdown();
  // The handler was cancelled and its reply flushed, or the connection closed
  // first: either way the caller is not left hanging.
  Code code = blocked.get();
  EXPECT_TRUE(code == Code::kOk || code == Code::kUnavailable) << CodeName(code);
  EXPECT_EQ(CallCode(client, "test.Echo", "Echo"), Code::kUnavailable);
  EXPECT_FALSE(std::filesystem::exists(socket_)) << "Shutdown leaves no socket file";
}

TEST_F(TtrpcServerTest, ClientHangUpCancelsItsRunningCalls) {
  Start();
  auto client = std::make_unique<Client>(socket_);
  auto blocked = std::async(std::launch::async, [&] { return CallCode(*client, "test.Echo", "BlockUntilCancelled"); });
  for (int i = 0; i < 200 && server_->ActiveCalls() == 0; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(server_->ActiveCalls(), 1u);
  client->Close();
  EXPECT_EQ(blocked.get(), Code::kUnavailable);
  // containerd going away must not leave a Wait handler running forever.
  for (int i = 0; i < 200 && !saw_cancel_; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(saw_cancel_);
  for (int i = 0; i < 200 && server_->ActiveCalls() != 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(server_->ActiveCalls(), 0u);
}

TEST_F(TtrpcServerTest, ListenRefusesExistingPathAndConnectReportsMissingServer) {
  EXPECT_THROW(Client("unix://" + dir_ + "/nobody.sock"), TtrpcError);
  Start();
  Server second;
  try {
    second.Listen(socket_);
    FAIL() << "second Listen on the same path succeeded";
  } catch (const TtrpcError& e) {
    EXPECT_EQ(e.code(), Code::kAlreadyExists);
  }
}

// --- raw peers -----------------------------------------------------------

class RawPeer {
 public:
  explicit RawPeer(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) throw std::runtime_error("connect");
    timeval tv{.tv_sec = 5, .tv_usec = 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawPeer() { close(fd_); }
  void Write(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::write(fd_, bytes.data() + off, bytes.size() - off);
      if (n <= 0) throw std::runtime_error("write");
      off += static_cast<size_t>(n);
    }
  }
  DecodedFrame ReadFrame() {
    while (frames_.empty()) {
      uint8_t buf[4096];
      ssize_t n = ::read(fd_, buf, sizeof(buf));
      if (n <= 0) throw std::runtime_error("peer closed or timed out");
      decoder_.Feed(std::span<const uint8_t>(buf, static_cast<size_t>(n)), frames_);
    }
    DecodedFrame f = std::move(frames_.front());
    frames_.erase(frames_.begin());
    return f;
  }
  wire::Response ReadResponse(uint32_t expect_stream) {
    DecodedFrame f = ReadFrame();
    EXPECT_EQ(f.header.stream_id, expect_stream);
    EXPECT_EQ(f.header.type, static_cast<uint8_t>(FrameType::kResponse));
    wire::Response r;
    EXPECT_TRUE(r.ParseFromString(f.payload));
    return r;
  }
  void ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

 private:
  int fd_ = -1;
  FrameDecoder decoder_;
  std::vector<DecodedFrame> frames_;
};

std::string RequestFrame(uint32_t stream, const std::string& service, const std::string& method,
                         const std::string& payload) {
  wire::Request req;
  req.set_service(service);
  req.set_method(method);
  req.set_payload(payload);
  return EncodeFrame(stream, FrameType::kRequest, 0, req.SerializeAsString());
}

TEST_F(TtrpcServerTest, RequestWrittenOneByteAtATimeIsServed) {
  Start();
  RawPeer peer(socket_);
  std::string frame = RequestFrame(1, "test.Echo", "Echo", "split");
  for (char c : frame) {
    peer.Write(std::string(1, c));
    std::this_thread::sleep_for(1ms);
  }
  auto r = peer.ReadResponse(1);
  EXPECT_EQ(r.status().code(), 0);
  EXPECT_EQ(r.payload(), "split");
}

TEST_F(TtrpcServerTest, OversizedFrameGetsResourceExhaustedAndConnectionSurvives) {
  Start();
  RawPeer peer(socket_);
  const uint32_t big = kMaxFramePayload + 1;
  auto header = EncodeHeader(FrameHeader{.length = big, .stream_id = 3, .type = 1, .flags = 0});
  peer.Write(std::string(reinterpret_cast<const char*>(header.data()), header.size()) + std::string(big, '\0'));
  auto r = peer.ReadResponse(3);
  EXPECT_EQ(r.status().code(), static_cast<int>(Code::kResourceExhausted));
  EXPECT_NE(r.status().message().find("exceeds maximum message size"), std::string::npos) << r.status().message();
  peer.Write(RequestFrame(5, "test.Echo", "Echo", "next"));
  EXPECT_EQ(peer.ReadResponse(5).payload(), "next");
}

TEST_F(TtrpcServerTest, EvenStreamIdAndGarbageEnvelopeAreInvalidArgument) {
  Start();
  RawPeer peer(socket_);
  peer.Write(RequestFrame(2, "test.Echo", "Echo", "even"));
  auto r = peer.ReadResponse(2);
  EXPECT_EQ(r.status().code(), static_cast<int>(Code::kInvalidArgument));
  EXPECT_NE(r.status().message().find("odd"), std::string::npos);
  peer.Write(EncodeFrame(7, FrameType::kRequest, 0, "\xff\xff\xff"));
  r = peer.ReadResponse(7);
  EXPECT_EQ(r.status().code(), static_cast<int>(Code::kInvalidArgument));
  // Data frames start nothing; the next request is still answered.
  peer.Write(EncodeFrame(9, FrameType::kData, 0, "stray"));
  peer.Write(RequestFrame(11, "test.Echo", "Echo", "ok"));
  EXPECT_EQ(peer.ReadResponse(11).payload(), "ok");
}

// Found with the ttrpc_server fuzz harness (UBSan): now + timeout_nano
// overflowed for a timeout near INT64_MAX, giving a deadline in the past.
// Such a timeout, and a negative one, mean no deadline (as in Go ttrpc).
TEST_F(TtrpcServerTest, HugeOrNegativeTimeoutMeansNoDeadline) {
  Start();
  RawPeer peer(socket_);
  uint32_t stream = 1;
  for (int64_t timeout : {std::numeric_limits<int64_t>::max(), int64_t{-5}}) {
    wire::Request req;
    req.set_service("test.Echo");
    req.set_method("Metadata");
    req.set_timeout_nano(timeout);
    peer.Write(EncodeFrame(stream, FrameType::kRequest, 0, req.SerializeAsString()));
    auto r = peer.ReadResponse(stream);
    EXPECT_EQ(r.status().code(), 0) << timeout << ": " << r.status().message();
    EXPECT_EQ(r.payload(), "") << timeout << ": the handler saw a deadline";
    stream += 2;
  }
}

TEST_F(TtrpcServerTest, TruncatedFrameClosesOnlyThatConnection) {
  Start();
  {
    RawPeer peer(socket_);
    std::string frame = RequestFrame(1, "test.Echo", "Echo", "cut short");
    peer.Write(frame.substr(0, frame.size() - 3));
    peer.ShutdownWrite();
    EXPECT_THROW(peer.ReadFrame(), std::runtime_error);  // server hangs up, no reply
  }
  Client client(socket_);
  EXPECT_EQ(client.Call("test.Echo", "Echo", "fine"), "fine");
}

TEST_F(TtrpcServerTest, ClientRefusesOversizedRequestLocally) {
  Start();
  Client client(socket_);
  std::string message;
  try {
    client.Call("test.Echo", "Echo", std::string(kMaxFramePayload, 'x'));
    FAIL() << "oversized request was sent";
  } catch (const TtrpcError& e) {
    EXPECT_EQ(e.code(), Code::kResourceExhausted);
  }
  EXPECT_EQ(client.Call("test.Echo", "Echo", "small"), "small");
}

}  // namespace
}  // namespace hull::ttrpc
