// Pod networking's pure parts: which interfaces and routes `ip -j` output
// yields, the spec's network namespace, and the ip/tc command lines.
#include "vm_sandbox/pod_network.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sandbox/sandbox_error.h"

namespace hull::vm_sandbox {
namespace {

// As iproute2 6.1 prints it for a CNI-style namespace.
constexpr char kAddr[] = R"([
 {"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"link_type":"loopback",
  "address":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8},
  {"family":"inet6","local":"::1","prefixlen":128}]},
 {"ifindex":2,"link_index":3,"ifname":"eth0","flags":["BROADCAST","UP"],"mtu":1450,"link_type":"ether",
  "address":"8e:2b:11:aa:bb:cc","link_netnsid":0,"addr_info":[
   {"family":"inet","local":"10.88.0.2","prefixlen":24,"scope":"global","label":"eth0"},
   {"family":"inet6","local":"fe80::1","prefixlen":64}]},
 {"ifindex":4,"ifname":"dummy0","mtu":1500,"link_type":"ether","address":"aa:aa:aa:aa:aa:aa",
  "addr_info":[{"family":"inet6","local":"fe80::2","prefixlen":64}]}
])";

TEST(PodNetworkParse, KeepsIpv4InterfacesButLoopback) {
  auto itfs = ParseIpAddrJson(kAddr);
  ASSERT_EQ(itfs.size(), 1u);
  EXPECT_EQ(itfs[0].name, "eth0");
  EXPECT_EQ(itfs[0].mac, "8e:2b:11:aa:bb:cc");
  EXPECT_EQ(itfs[0].mtu, 1450u);
  ASSERT_EQ(itfs[0].addresses.size(), 1u);
  EXPECT_EQ(itfs[0].addresses[0].address, "10.88.0.2");
  EXPECT_EQ(itfs[0].addresses[0].prefix_length, 24u);
}

TEST(PodNetworkParse, RejectsOutputThatIsNotAnArray) {
  EXPECT_THROW(ParseIpAddrJson("Object \"-j\" is unknown"), shim::SandboxError);
  EXPECT_THROW(ParseIpRouteJson("{}"), shim::SandboxError);
  EXPECT_TRUE(ParseIpAddrJson("[]").empty());
}

TEST(PodNetworkParse, RoutesThroughAGatewayOnly) {
  auto routes = ParseIpRouteJson(R"([
    {"dst":"default","gateway":"10.88.0.1","dev":"eth0","flags":[]},
    {"dst":"10.88.0.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"10.88.0.2"},
    {"dst":"192.168.5.0/24","gateway":"10.88.0.254","dev":"eth0"}])");
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].destination, "default");
  EXPECT_EQ(routes[0].gateway, "10.88.0.1");
  EXPECT_EQ(routes[0].device, "eth0");
  EXPECT_EQ(routes[1].destination, "192.168.5.0/24");
}

TEST(PodNetworkSpec, FindsAndRemovesTheNetworkNamespaceWithAPath) {
  const std::string joined =
      R"({"linux":{"namespaces":[{"type":"pid"},{"type":"network","path":"/var/run/netns/p1"},{"type":"mount"}]}})";
  EXPECT_EQ(NetworkNamespacePath(joined), "/var/run/netns/p1");
  auto stripped = nlohmann::json::parse(WithoutNetworkNamespace(joined));
  EXPECT_EQ(stripped["linux"]["namespaces"],
            nlohmann::json::parse(R"([{"type":"pid"},{"type":"mount"}])"));
  // A new (path-less) network namespace is the guest's business: unchanged.
  const std::string fresh = R"({"linux":{"namespaces":[{"type":"network"}]}})";
  EXPECT_EQ(NetworkNamespacePath(fresh), std::nullopt);
  EXPECT_EQ(WithoutNetworkNamespace(fresh), fresh);
  EXPECT_EQ(NetworkNamespacePath("not json"), std::nullopt);
  EXPECT_EQ(WithoutNetworkNamespace("not json"), "not json");
}

TEST(PodNetworkCommands, MirrorsBothWaysInTheNamespace) {
  PodInterface itf{"eth0", "8e:2b:11:aa:bb:cc", 1450, {{"10.88.0.2", 24}}};
  auto cmds = MirrorSetupCommands("/var/run/netns/p1", itf, TapName(0));
  auto line = [](const std::vector<std::string>& argv) {
    std::string s;
    for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
    return s;
  };
  ASSERT_EQ(cmds.size(), 7u);
  const std::string ns = "nsenter --net=/var/run/netns/p1 ";
  EXPECT_EQ(line(cmds[0]), ns + "ip tuntap add dev hulltap0 mode tap vnet_hdr");
  EXPECT_EQ(line(cmds[1]), ns + "ip link set dev hulltap0 mtu 1450");
  EXPECT_EQ(line(cmds[2]), ns + "ip link set dev hulltap0 up");
  EXPECT_EQ(line(cmds[3]), ns + "tc qdisc add dev eth0 handle ffff: ingress");
  EXPECT_EQ(line(cmds[4]), ns + "tc filter add dev eth0 parent ffff: protocol all u32 match u8 0 0 "
                                "action mirred egress redirect dev hulltap0");
  EXPECT_EQ(line(cmds[5]), ns + "tc qdisc add dev hulltap0 handle ffff: ingress");
  EXPECT_EQ(line(cmds[6]), ns + "tc filter add dev hulltap0 parent ffff: protocol all u32 match u8 0 0 "
                                "action mirred egress redirect dev eth0");
  auto down = MirrorTeardownCommands("/var/run/netns/p1", "eth0", "hulltap0");
  ASSERT_EQ(down.size(), 2u);
  EXPECT_EQ(line(down[0]), ns + "tc qdisc del dev eth0 handle ffff: ingress");
  EXPECT_EQ(line(down[1]), ns + "ip link del dev hulltap0");
}

TEST(PodNetworkSetUp, MissingNamespaceIsAClearError) {
  try {
    PodNetwork network("/nonexistent/netns/x", nullptr);
    FAIL() << "no error";
  } catch (const shim::SandboxError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/netns/x does not exist"), std::string::npos);
  }
}

}  // namespace
}  // namespace hull::vm_sandbox
