// agent-vsock-smoke: the host side of the e2e check. Reaches hull-agent in a
// hull-vmm guest through the VMM's hybrid vsock socket ("CONNECT <port>\n" ->
// "OK <port>\n"), runs one container from a block-device rootfs, checks its
// output and exit code, then asks the agent to power the VM off.
// usage: agent-vsock-smoke UDS_PATH DEVICE FSTYPE
// Static (like hull-agent) so it runs in the nested L1's busybox userspace.
#include <grpcpp/create_channel_posix.h>
#include <grpcpp/grpcpp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "hull/agent/v1/agent.grpc.pb.h"
#include "test_bundle.h"

namespace pb = hull::agent::v1;

namespace {

// -1 until the guest listens on `port` (hull-vmm closes the connection then).
int connect_hybrid(const std::string& uds, unsigned port) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, uds.c_str(), sizeof sa.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    static int reported = 0;
    if (reported++ < 3)
      std::fprintf(stderr, "agent-vsock-smoke: connect %s: %s\n", uds.c_str(),
                   std::strerror(errno));
    ::close(fd);
    return -1;
  }
  std::string req = "CONNECT " + std::to_string(port) + "\n";
  if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return -1;
  }
  std::string line;
  char c;
  while (line.size() < 64 && ::read(fd, &c, 1) == 1 && c != '\n') line += c;
  if (line.rfind("OK ", 0) != 0) {
    static int answered = 0;
    if (answered++ < 3)
      std::fprintf(stderr, "agent-vsock-smoke: CONNECT %u answered \"%s\"\n", port, line.c_str());
    ::close(fd);
    return -1;
  }
  return fd;
}

bool check(const grpc::Status& s, const char* what) {
  if (s.ok()) return true;
  std::fprintf(stderr, "agent-vsock-smoke: %s failed: %s\n", what, s.error_message().c_str());
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: agent-vsock-smoke UDS_PATH DEVICE FSTYPE\n");
    return 2;
  }
  auto t0 = std::chrono::steady_clock::now();
  int fd = -1;
  for (int i = 0; i < 240 && fd < 0; ++i) {
    fd = connect_hybrid(argv[1], 1024);
    if (fd < 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (fd < 0) {
    std::fprintf(stderr, "agent-vsock-smoke: the agent never accepted on vsock port 1024 via %s\n",
                 argv[1]);
    return 1;
  }
  auto connected = std::chrono::steady_clock::now();
  auto channel = grpc::CreateInsecureChannelFromFd("hull-agent", fd);
  auto stub = pb::Agent::NewStub(channel);
  {
    grpc::ClientContext ctx;
    pb::VersionResponse v;
    if (!check(stub->Version(&ctx, pb::VersionRequest(), &v), "Version")) return 1;
    std::printf("agent %s (api %u), guest kernel %s\n", v.agent_version().c_str(), v.api_version(),
                v.kernel_release().c_str());
  }
  // The guest kernel has the cgroup v2 controllers a hybrid host lacks: check the limits too.
  nlohmann::json spec = hull::testing::default_spec(
      {"sh", "-c",
       "echo hello from $(hostname); grep -c . /etc/passwd; touch /written && echo writable; "
       "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; exit 3"});
  spec["hostname"] = "hull-guest-container";
  spec["mounts"].push_back({{"destination", "/sys/fs/cgroup"}, {"type", "cgroup"}, {"source", "cgroup"}});
  spec["linux"]["namespaces"].push_back({{"type", "cgroup"}});
  spec["linux"]["resources"] = {{"memory", {{"limit", 64 << 20}}}, {"pids", {{"limit", 20}}}};
  spec["root"]["readonly"] = false;
  {
    grpc::ClientContext ctx;
    pb::CreateContainerRequest req;
    req.set_container_id("e2e");
    req.set_oci_config_json(spec.dump());
    auto* b = req.mutable_rootfs()->mutable_block();
    b->set_device(argv[2]);
    b->set_fstype(argv[3]);
    b->set_writable_overlay(true);
    pb::CreateContainerResponse resp;
    if (!check(stub->CreateContainer(&ctx, req, &resp), "CreateContainer")) return 1;
  }
  std::string out;
  std::thread reader([&] {
    grpc::ClientContext ctx;
    pb::ProcessRequest req;
    req.set_container_id("e2e");
    auto r = stub->ReadStdout(&ctx, req);
    pb::OutputChunk chunk;
    while (r->Read(&chunk)) out += chunk.data();
  });
  {
    grpc::ClientContext ctx;
    pb::ContainerRequest req;
    req.set_container_id("e2e");
    pb::Empty e;
    if (!check(stub->StartContainer(&ctx, req, &e), "StartContainer")) return 1;
  }
  pb::WaitProcessResponse wait;
  {
    grpc::ClientContext ctx;
    pb::ProcessRequest req;
    req.set_container_id("e2e");
    if (!check(stub->WaitProcess(&ctx, req, &wait), "WaitProcess")) return 1;
  }
  reader.join();
  auto done = std::chrono::steady_clock::now();
  std::printf("container output:\n%s(exit status %d)\n", out.c_str(), wait.exit_status());
  std::printf("agent reachable after %lld ms; create+start+wait took %lld ms\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(connected - t0).count()),
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(done - connected).count()));
  bool ok = out == "hello from hull-guest-container\n3\nwritable\n67108864\n20\n" &&
            wait.exit_status() == 3;
  {
    grpc::ClientContext ctx;
    pb::RemoveContainerRequest req;
    req.set_container_id("e2e");
    pb::Empty e;
    ok = check(stub->RemoveContainer(&ctx, req, &e), "RemoveContainer") && ok;
  }
  {
    grpc::ClientContext ctx;
    pb::DestroySandboxRequest req;
    req.set_shutdown_vm(true);
    pb::Empty e;
    ok = check(stub->DestroySandbox(&ctx, req, &e), "DestroySandbox") && ok;
  }
  std::printf(ok ? "PASS\n" : "FAIL: unexpected output or exit status\n");
  return ok ? 0 : 1;
}
