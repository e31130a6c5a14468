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

TEST(AgentPid1, SetsUpTheSandboxRunsContainersAndPowersOffOnRequest) {
  std::string why = hull::testing::why_no_busybox();
  if (!why.empty()) GTEST_SKIP() << why;
  if (::access("/usr/bin/unshare", X_OK) != 0) GTEST_SKIP() << "util-linux unshare is missing";
  std::filesystem::create_directories(HULL_TEST_SCRATCH_DIR);
  hull::testing::TempDir dir(HULL_TEST_SCRATCH_DIR);
  std::string rootfs = hull::testing::make_busybox_rootfs(dir.path());
  std::string sock = dir.path() + "/agent.sock";

  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/usr/bin/unshare", "unshare", "--pid", "--fork", "--kill-child", "--mount", "--net",
            "--propagation", "private", HULL_AGENT_BINARY, "--listen", ("unix:" + sock).c_str(),
            "--state-dir", (dir.path() + "/state").c_str(), nullptr);
    ::_exit(127);
  }
  struct KillOnFailure {  // an ASSERT must not leave the namespace's agent behind
    pid_t pid;
    bool done = false;
    ~KillOnFailure() {
      if (done) return;
      ::kill(pid, SIGKILL);  // unshare --kill-child takes the agent (and its pid namespace) along
      ::waitpid(pid, nullptr, 0);
    }
  } guard{pid};
  auto channel = grpc::CreateChannel("unix:" + sock, grpc::InsecureChannelCredentials());
  for (int i = 0; i < 500 && !std::filesystem::exists(sock); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(
      channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5)));
  auto stub = pb::Agent::NewStub(channel);

  // Sandbox setup: as PID 1 the agent owns this (unshared) network namespace.
  std::string state = dir.path() + "/state";
  {
    grpc::ClientContext ctx;
    pb::CreateSandboxRequest req;
    req.set_sandbox_id("pod");
    req.set_hostname("hull-pod");
    req.mutable_dns()->add_nameservers("10.7.0.53");
    req.mutable_dns()->add_searches("pod.local");
    auto* m = req.add_guest_mounts();
    m->set_source("tmpfs");
    m->set_fstype("tmpfs");
    m->add_options("size=1m");
    m->set_mount_point(state + "/shared");
    auto* itf = req.add_interfaces();
    itf->set_name("lo");
    itf->set_mtu(9000);
    auto* addr = itf->add_addresses();
    addr->set_address("10.7.0.1");
    addr->set_prefix_length(24);
    auto* route = req.add_routes();
    route->set_destination("10.8.0.0/16");
    route->set_device("lo");
    pb::Empty e;
    grpc::Status s = stub->CreateSandbox(&ctx, req, &e);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  {
    grpc::ClientContext ctx;
    pb::CreateSandboxRequest req;
    req.add_interfaces()->set_name("nosuchif0");
    pb::Empty e;
    grpc::Status s = stub->CreateSandbox(&ctx, req, &e);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    // A container in the sandbox's network namespace (no "network" entry) sees it.
    nlohmann::json spec =
        hull::testing::default_spec({"sh", "-c",
                                     "ip -4 addr show lo | grep -o 'inet [0-9./]*'; cat "
                                     "/sys/class/net/lo/mtu; ip route | grep -c 10.8.0.0/16; "
                                     "cat /etc/resolv.conf; ls -d /shared"});
    spec["linux"]["namespaces"] = {
        {{"type", "pid"}}, {{"type", "mount"}}, {{"type", "ipc"}}, {{"type", "uts"}}};
    spec["root"]["readonly"] = false;
    spec["mounts"].push_back({{"destination", "/etc/resolv.conf"},
                              {"type", "bind"},
                              {"source", state + "/resolv.conf"},
                              {"options", {"rbind", "ro"}}});
    spec["mounts"].push_back({{"destination", "/shared"},
                              {"type", "bind"},
                              {"source", state + "/shared"},
                              {"options", {"rbind"}}});
    grpc::ClientContext ctx;
    pb::CreateContainerRequest req;
    req.set_container_id("net");
    req.set_oci_config_json(spec.dump());
    req.mutable_rootfs()->set_directory(rootfs);
    pb::CreateContainerResponse resp;
    grpc::Status s = stub->CreateContainer(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  std::string net_out;
  std::thread net_reader([&] {
    grpc::ClientContext ctx;
    pb::ProcessRequest req;
    req.set_container_id("net");
    auto r = stub->ReadStdout(&ctx, req);
    pb::OutputChunk chunk;
    while (r->Read(&chunk)) net_out += chunk.data();
  });
  {
    grpc::ClientContext ctx;
    pb::ContainerRequest req;
    req.set_container_id("net");
    pb::Empty e;
    ASSERT_TRUE(stub->StartContainer(&ctx, req, &e).ok());
  }
  net_reader.join();
  EXPECT_EQ(net_out,
            "inet 10.7.0.1/24\n9000\n1\nnameserver 10.7.0.53\nsearch pod.local\n/shared\n");

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
  guard.done = true;
  ASSERT_TRUE(exited) << "the agent did not power off";
  bool hup = (WIFSIGNALED(status) && WTERMSIG(status) == SIGHUP) ||
             (WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGHUP);
  EXPECT_TRUE(hup) << "status " << status;
}

}  // namespace
