// hull-agent as PID 1, the way it runs in the guest, but inside fresh pid,
// mount and network namespaces on the host (unshare). It mounts /proc, /dev,
// /run, /tmp ... over the host's in its private mount namespace, so the test
// keeps its files under the build tree. Root; label "integration".
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "hull/agent/v1/agent.grpc.pb.h"
#include "test_bundle.h"

namespace {

namespace pb = hull::agent::v1;

TEST(AgentPid1, ServesAndRunsContainersAsInitAndPowersOffOnRequest) {
  std::string why = hull::testing::why_no_busybox();
  if (!why.empty()) GTEST_SKIP() << why;
  if (::access("/usr/bin/unshare", X_OK) != 0) GTEST_SKIP() << "util-linux unshare is missing";
  std::filesystem::create_directories(HULL_TEST_SCRATCH_DIR);
  hull::testing::TempDir dir(HULL_TEST_SCRATCH_DIR);
  std::string rootfs = hull::testing::make_busybox_rootfs(dir.path());
  std::string sock = dir.path() + "/agent.sock";

  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/usr/bin/unshare", "unshare", "--pid", "--fork", "--mount", "--net", "--propagation", "private",
            HULL_AGENT_BINARY, "--listen", ("unix:" + sock).c_str(), "--state-dir", (dir.path() + "/state").c_str(),
            nullptr);
    ::_exit(127);
  }
  auto channel = grpc::CreateChannel("unix:" + sock, grpc::InsecureChannelCredentials());
  for (int i = 0; i < 500 && !std::filesystem::exists(sock); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5)));
  auto stub = pb::Agent::NewStub(channel);

  {
    grpc::ClientContext ctx;
    pb::CreateContainerRequest req;
    req.set_container_id("c1");
    req.set_oci_config_json(hull::testing::default_spec({"sh", "-c", "echo in-container"}).dump());
    req.mutable_rootfs()->set_directory(rootfs);
    pb::CreateContainerResponse resp;
    grpc::Status s = stub->CreateContainer(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  std::string out;
  std::thread reader([&] {
    grpc::ClientContext ctx;
    pb::ProcessRequest req;
    req.set_container_id("c1");
    auto r = stub->ReadStdout(&ctx, req);
    pb::OutputChunk chunk;
    while (r->Read(&chunk)) out += chunk.data();
  });
  {
    grpc::ClientContext ctx;
    pb::ContainerRequest req;
    req.set_container_id("c1");
    pb::Empty e;
    ASSERT_TRUE(stub->StartContainer(&ctx, req, &e).ok());
  }
  {
    grpc::ClientContext ctx;
    pb::ProcessRequest req;
    req.set_container_id("c1");
    pb::WaitProcessResponse resp;
    ASSERT_TRUE(stub->WaitProcess(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.exit_status(), 0);
  }
  reader.join();
  EXPECT_EQ(out, "in-container\n");
  {
    grpc::ClientContext ctx;
    pb::DestroySandboxRequest req;
    req.set_shutdown_vm(true);
    pb::Empty e;
    ASSERT_TRUE(stub->DestroySandbox(&ctx, req, &e).ok());
  }
  // reboot(2) from a pid namespace's init ends that namespace (SIGHUP to its init).
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 500 && !exited; ++i) {
    exited = ::waitpid(pid, &status, WNOHANG) == pid;
    if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  ASSERT_TRUE(exited) << "the agent did not power off";
  bool hup = (WIFSIGNALED(status) && WTERMSIG(status) == SIGHUP) || (WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGHUP);
  EXPECT_TRUE(hup) << "status " << status;
}

}  // namespace
