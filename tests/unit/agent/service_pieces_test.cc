#include <gtest/gtest.h>

#include <filesystem>

#include "service/listener.h"
#include "service/oom_watch.h"
#include "service/sandbox.h"

namespace hull::service {
namespace {

TEST(AgentOomWatch, ReportsEachNewKillAndForgetsRemovedContainers) {
  std::map<std::string, uint64_t> seen{{"a", 1}};
  auto events = take_new_oom_events(seen, {{"a", 3}, {"b", 1}});
  EXPECT_EQ(events, (std::vector<std::string>{"a", "a", "b"}));
  EXPECT_TRUE(take_new_oom_events(seen, {{"a", 3}, {"b", 1}}).empty());
  // "a" removed: its entry goes; a new container reusing the id starts from 0.
  EXPECT_TRUE(take_new_oom_events(seen, {{"b", 1}}).empty());
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_EQ(take_new_oom_events(seen, {{"a", 1}, {"b", 1}}), (std::vector<std::string>{"a"}));
}

TEST(AgentListenAddress, ParsesBothForms) {
  ListenAddress v = parse_listen_address("vsock:1024");
  EXPECT_EQ(v.kind, ListenAddress::Kind::vsock);
  EXPECT_EQ(v.port, 1024u);
  ListenAddress u = parse_listen_address("unix:/run/a.sock");
  EXPECT_EQ(u.kind, ListenAddress::Kind::unix_socket);
  EXPECT_EQ(u.path, "/run/a.sock");
  EXPECT_THROW(parse_listen_address("tcp:1.2.3.4:5"), std::invalid_argument);
  EXPECT_THROW(parse_listen_address("vsock:abc"), std::invalid_argument);
  EXPECT_THROW(parse_listen_address("vsock:0"), std::invalid_argument);
  EXPECT_THROW(parse_listen_address("unix:"), std::invalid_argument);
  EXPECT_THROW(parse_listen_address("unix:/" + std::string(200, 'x')), std::invalid_argument);
}

TEST(AgentSandbox, ResolvConfAndAddresses) {
  hull::agent::v1::DNS dns;
  dns.add_nameservers("10.0.0.1");
  dns.add_nameservers("10.0.0.2");
  dns.add_searches("example.com");
  dns.add_options("ndots:2");
  EXPECT_EQ(resolv_conf(dns),
            "nameserver 10.0.0.1\nnameserver 10.0.0.2\nsearch example.com\noptions ndots:2\n");
  EXPECT_EQ(resolv_conf(hull::agent::v1::DNS()), "");
  EXPECT_EQ(parse_ipv4("1.2.3.4", "x"), 0x04030201u);
  try {
    parse_ipv4("fe80::1", "interfaces[0].addresses[0].address");
    FAIL();
  } catch (const SandboxError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "interfaces[0].addresses[0].address: \"fe80::1\" is not an IPv4"),
              std::string::npos);
  }
}

TEST(AgentSandbox, RefusesBadRequestsBeforeChangingAnything) {
  Sandbox sb({"/tmp/hull-sandbox-unit-never-created", false});
  hull::agent::v1::CreateSandboxRequest req;
  auto* m = req.add_guest_mounts();
  m->set_mount_point("relative/path");
  m->set_fstype("tmpfs");
  EXPECT_THROW(sb.create(req), SandboxError);
  req.clear_guest_mounts();
  req.add_interfaces()->set_name("eth0");
  try {
    sb.create(req);
    FAIL();
  } catch (const SandboxError& e) {
    EXPECT_NE(std::string(e.what()).find("only configures the network as the guest's PID 1"),
              std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists("/tmp/hull-sandbox-unit-never-created"));
}

}  // namespace
}  // namespace hull::service
