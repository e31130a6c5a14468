// Event delivery to containerd: the ttrpc Events/Forward path against a fake
// containerd event service, and the `containerd publish` binary path against a
// script that records what it was given.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/empty.pb.h"
#include "task/binary_event_publisher.h"
#include "task/ttrpc_event_forwarder.h"
#include "ttrpc/server.h"

namespace hull::task {
namespace {

using namespace std::chrono_literals;
namespace ev = ::containerd::events;

class EventPublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-events-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    socket_ = dir_ + "/containerd.sock.ttrpc";
    signal(SIGPIPE, SIG_IGN);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A stand-in for containerd's ttrpc event service.
  std::unique_ptr<ttrpc::Server> StartFakeContainerd() {
    auto server = std::make_unique<ttrpc::Server>();
    server->RegisterUnary<events_v1::ForwardRequest, google::protobuf::Empty>(
        "containerd.services.events.ttrpc.v1.Events", "Forward",
        [this](const ttrpc::CallContext&, const events_v1::ForwardRequest& r) {
          std::lock_guard lock(mu_);
          received_.push_back(r.envelope());
          return google::protobuf::Empty();
        });
    server->Listen(socket_);
    server->Start();
    return server;
  }

  std::vector<events_v1::Envelope> Received() {
    std::lock_guard lock(mu_);
    return received_;
  }

  std::string dir_;
  std::string socket_;
  std::mutex mu_;
  std::vector<events_v1::Envelope> received_;
};

ev::TaskStart StartEvent(uint32_t pid) {
  ev::TaskStart e;
  e.set_container_id("c1");
  e.set_pid(pid);
  return e;
}

TEST_F(EventPublisherTest, ForwardsEnvelopesInOrderWithContainerdTypeUrls) {
  auto containerd = StartFakeContainerd();
  TtrpcEventForwarder forwarder(socket_, "k8s.io");
  auto before = std::chrono::system_clock::now();
  for (uint32_t pid = 1; pid <= 20; ++pid) forwarder.Publish("/tasks/start", StartEvent(pid));
  ev::TaskOOM oom;
  oom.set_container_id("c1");
  forwarder.Publish("/tasks/oom", oom);
  ASSERT_TRUE(forwarder.Flush(5s));
  auto got = Received();
  ASSERT_EQ(got.size(), 21u);
  for (uint32_t i = 0; i < 20; ++i) {
    EXPECT_EQ(got[i].namespace_(), "k8s.io");
    EXPECT_EQ(got[i].topic(), "/tasks/start");
    EXPECT_EQ(got[i].event().type_url(), "containerd.events.TaskStart");
    ev::TaskStart e;
    ASSERT_TRUE(e.ParseFromString(got[i].event().value()));
    EXPECT_EQ(e.pid(), i + 1) << "events arrive in publish order";
  }
  EXPECT_EQ(got[20].event().type_url(), "containerd.events.TaskOOM");
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(before.time_since_epoch()).count();
  EXPECT_GE(got[0].timestamp().seconds(), seconds);
  EXPECT_LE(got[0].timestamp().seconds(), seconds + 5);
}

TEST_F(EventPublisherTest, RetriesUntilContainerdListens) {
  TtrpcEventForwarder forwarder(socket_, "default", nullptr, 20ms);
  forwarder.Publish("/tasks/start", StartEvent(1));
  std::this_thread::sleep_for(50ms);
  auto containerd = StartFakeContainerd();
  ASSERT_TRUE(forwarder.Flush(5s));
  ASSERT_EQ(Received().size(), 1u);
}

TEST_F(EventPublisherTest, DropsAnEventAfterFiveFailedAttempts) {
  TtrpcEventForwarder forwarder(socket_, "default", nullptr, 1ms);
  forwarder.Publish("/tasks/start", StartEvent(1));
  ASSERT_TRUE(forwarder.Flush(5s));
  // The queue moved on: a later event is delivered once containerd is there.
  auto containerd = StartFakeContainerd();
  forwarder.Publish("/tasks/start", StartEvent(2));
  ASSERT_TRUE(forwarder.Flush(5s));
  auto got = Received();
  ASSERT_EQ(got.size(), 1u);
  ev::TaskStart e;
  ASSERT_TRUE(e.ParseFromString(got[0].event().value()));
  EXPECT_EQ(e.pid(), 2u);
}

TEST_F(EventPublisherTest, PublishBinaryGetsFlagsAndTheEventOnStdin) {
  std::string script = dir_ + "/containerd";
  {
    std::ofstream out(script);
    out << "#!/bin/sh\necho \"$@\" >> " << dir_ << "/args\ncat > " << dir_ << "/stdin\n";
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  BinaryEventPublisher publisher(script, "/run/containerd/containerd.sock", "default");
  publisher.Publish("/tasks/start", StartEvent(77));
  ASSERT_TRUE(publisher.Flush(5s));
  std::ifstream args_file(dir_ + "/args");
  std::string args;
  std::getline(args_file, args);
  EXPECT_EQ(args, "--address /run/containerd/containerd.sock publish --topic /tasks/start --namespace default");
  std::ifstream stdin_file(dir_ + "/stdin", std::ios::binary);
  std::string payload((std::istreambuf_iterator<char>(stdin_file)), std::istreambuf_iterator<char>());
  google::protobuf::Any any;
  ASSERT_TRUE(any.ParseFromString(payload));
  EXPECT_EQ(any.type_url(), "containerd.events.TaskStart");
  ev::TaskStart e;
  ASSERT_TRUE(e.ParseFromString(any.value()));
  EXPECT_EQ(e.pid(), 77u);
}

TEST_F(EventPublisherTest, FailingPublishBinaryIsRetriedThenDropped) {
  std::string script = dir_ + "/containerd";
  {
    std::ofstream out(script);
    out << "#!/bin/sh\necho attempt >> " << dir_ << "/attempts\necho 'containerd: not running' >&2\nexit 1\n";
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  BinaryEventPublisher publisher(script, "/nowhere", "default", nullptr, 1ms);
  publisher.Publish("/tasks/exit", StartEvent(1));
  ASSERT_TRUE(publisher.Flush(10s));
  std::ifstream attempts_file(dir_ + "/attempts");
  int lines = 0;
  for (std::string line; std::getline(attempts_file, line);) ++lines;
  EXPECT_EQ(lines, QueuedPublisher::kMaxAttempts);
}

}  // namespace
}  // namespace hull::task
