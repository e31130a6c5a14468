// AgentClient and the agent's log ring (ReadAgentLog): when a sandbox or
// container set-up call fails, the shim copies the agent's log lines it has
// not reported yet into its own log. The agent is a fake gRPC service on one
// end of a socketpair; the client rides the other end, as over vsock.
#include <grpcpp/grpcpp.h>
#include <grpcpp/server_posix.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "sandbox/agent_client.h"
#include "sandbox/sandbox_error.h"

namespace hull::shim {
namespace {

class FakeAgent final : public agentpb::Agent::Service {
 public:
  void AddLine(const std::string& text) {
    std::lock_guard lock(mutex_);
    lines_.push_back(text);
  }
  grpc::Status CreateContainer(grpc::ServerContext*, const agentpb::CreateContainerRequest* req,
                               agentpb::CreateContainerResponse*) override {
    AddLine("hull-agent: CreateContainer " + req->container_id() + " failed (3): no process");
    return {grpc::StatusCode::INVALID_ARGUMENT, "no process"};
  }
  grpc::Status StartContainer(grpc::ServerContext*, const agentpb::ContainerRequest*,
                              agentpb::Empty*) override {
    return grpc::Status::OK;
  }
  grpc::Status ReadAgentLog(grpc::ServerContext*, const agentpb::ReadAgentLogRequest* req,
                            agentpb::ReadAgentLogResponse* resp) override {
    std::lock_guard lock(mutex_);
    ++reads_;
    uint64_t seq = std::max<uint64_t>(req->since_sequence(), 1);
    for (; seq <= lines_.size(); ++seq) {
      auto* l = resp->add_lines();
      l->set_sequence(seq);
      l->set_text(lines_[seq - 1]);
    }
    resp->set_next_sequence(seq);
    return grpc::Status::OK;
  }
  int reads() {
    std::lock_guard lock(mutex_);
    return reads_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
  int reads_ = 0;
};

class AgentClientLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&agent_);
    server_ = builder.BuildAndStart();
    ASSERT_TRUE(server_);
    int fds[2];  // non-blocking, as gRPC wants (the agent accepts with SOCK_NONBLOCK)
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds), 0);
    grpc::AddInsecureChannelFromFd(server_.get(), fds[0]);
    client_ = std::make_unique<AgentClient>(UniqueFd(fds[1]), std::chrono::seconds(10));
    client_->SetAgentLogSink([this](const std::string& line) { logged_.push_back(line); });
  }
  void TearDown() override {
    client_.reset();
    if (server_) server_->Shutdown();
  }

  FakeAgent agent_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<AgentClient> client_;
  std::vector<std::string> logged_;
};

TEST_F(AgentClientLogTest, ReadsTheRingWithACursor) {
  agent_.AddLine("hull-agent: serving hull.agent.v1 on vsock:1024");
  agent_.AddLine("second");
  agentpb::ReadAgentLogResponse all = client_->ReadAgentLog(0);
  ASSERT_EQ(all.lines_size(), 2);
  EXPECT_EQ(all.lines(1).text(), "second");
  EXPECT_EQ(client_->ReadAgentLog(all.next_sequence()).lines_size(), 0);
}

TEST_F(AgentClientLogTest, AFailedCreateCopiesTheAgentLogIntoTheShimLog) {
  agent_.AddLine("hull-agent: serving hull.agent.v1 on vsock:1024");
  agentpb::CreateContainerRequest req;
  req.set_container_id("web");
  try {
    client_->CreateContainer(req);
    FAIL() << "CreateContainer did not throw";
  } catch (const SandboxError& e) {
    EXPECT_NE(std::string(e.what()).find("agent CreateContainer: no process"), std::string::npos) << e.what();
  }
  ASSERT_EQ(logged_.size(), 3u);
  EXPECT_NE(logged_[0].find("CreateContainer web failed (no process)"), std::string::npos) << logged_[0];
  EXPECT_NE(logged_[0].find("last 2 log lines"), std::string::npos) << logged_[0];
  EXPECT_EQ(logged_[1], "agent log: | hull-agent: serving hull.agent.v1 on vsock:1024");
  EXPECT_EQ(logged_[2], "agent log: | hull-agent: CreateContainer web failed (3): no process");

  // A second failure reports only the lines added since.
  logged_.clear();
  EXPECT_THROW(client_->CreateContainer(req), SandboxError);
  ASSERT_EQ(logged_.size(), 2u);
  EXPECT_NE(logged_[0].find("last 1 log lines"), std::string::npos) << logged_[0];
}

TEST_F(AgentClientLogTest, SuccessfulCallsDoNotReadTheLog) {
  client_->StartContainer("web");
  EXPECT_EQ(agent_.reads(), 0);
  EXPECT_TRUE(logged_.empty());
}

}  // namespace
}  // namespace hull::shim
