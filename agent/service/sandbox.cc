#include "service/sandbox.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "runtime/error.h"
#include "runtime/files.h"
#include "runtime/mount_options.h"
#include "runtime/unique_fd.h"

namespace hull::service {
namespace {

using runtime::UniqueFd;

[[noreturn]] void fail_errno(const std::string& what) {
  throw SandboxError(what + ": " + std::strerror(errno));
}

sockaddr_in inet(uint32_t addr) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = addr;
  return sa;
}

uint32_t prefix_mask(uint32_t prefix) {
  return prefix == 0 ? 0 : htonl(~uint32_t(0) << (32 - prefix));
}

void set_ifreq_name(ifreq& r, const std::string& name, const std::string& field) {
  if (name.empty() || name.size() >= IFNAMSIZ || name.find('/') != std::string::npos)
    throw SandboxError(field + ": \"" + name + "\" is not an interface name");
  std::memset(&r, 0, sizeof r);
  std::memcpy(r.ifr_name, name.c_str(), name.size());
}

void configure_interface(int sock, const hull::agent::v1::Interface& itf, size_t index) {
  std::string field = "interfaces[" + std::to_string(index) + "]";
  ifreq r;
  set_ifreq_name(r, itf.name(), field + ".name");
  if (::ioctl(sock, SIOCGIFFLAGS, &r) != 0)
    fail_errno(field + ": no interface \"" + itf.name() + "\" in the guest");
  if (!itf.hw_address().empty()) {
    unsigned b[6];
    char tail;
    if (std::sscanf(itf.hw_address().c_str(), "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3],
                    &b[4], &b[5], &tail) != 6)
      throw SandboxError(field + ".hw_address: \"" + itf.hw_address() +
                         "\" is not like 02:00:00:00:00:01");
    set_ifreq_name(r, itf.name(), field);
    r.ifr_hwaddr.sa_family = 1;  // ARPHRD_ETHER
    for (int i = 0; i < 6; ++i) r.ifr_hwaddr.sa_data[i] = static_cast<char>(b[i]);
    if (::ioctl(sock, SIOCSIFHWADDR, &r) != 0) fail_errno(field + ".hw_address: SIOCSIFHWADDR");
  }
  if (itf.mtu()) {
    set_ifreq_name(r, itf.name(), field);
    r.ifr_mtu = static_cast<int>(itf.mtu());
    if (::ioctl(sock, SIOCSIFMTU, &r) != 0) fail_errno(field + ".mtu: SIOCSIFMTU");
  }
  for (int i = 0; i < itf.addresses_size(); ++i) {
    const auto& a = itf.addresses(i);
    std::string af = field + ".addresses[" + std::to_string(i) + "]";
    uint32_t ip = parse_ipv4(a.address(), af + ".address");
    if (a.prefix_length() > 32) throw SandboxError(af + ".prefix_length: must be 0..32");
    // ioctl sets one address per interface; further ones become aliases eth0:1, ...
    std::string name = i == 0 ? itf.name() : itf.name() + ":" + std::to_string(i);
    set_ifreq_name(r, name, af);
    sockaddr_in sa = inet(ip);
    std::memcpy(&r.ifr_addr, &sa, sizeof sa);
    if (::ioctl(sock, SIOCSIFADDR, &r) != 0) fail_errno(af + ": SIOCSIFADDR");
    sa = inet(prefix_mask(a.prefix_length()));
    std::memcpy(&r.ifr_netmask, &sa, sizeof sa);
    if (::ioctl(sock, SIOCSIFNETMASK, &r) != 0) fail_errno(af + ": SIOCSIFNETMASK");
  }
  set_ifreq_name(r, itf.name(), field);
  if (::ioctl(sock, SIOCGIFFLAGS, &r) != 0) fail_errno(field + ": SIOCGIFFLAGS");
  r.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (::ioctl(sock, SIOCSIFFLAGS, &r) != 0) fail_errno(field + ": bringing it up");
}

void add_route(int sock, const hull::agent::v1::Route& route, size_t index) {
  std::string field = "routes[" + std::to_string(index) + "]";
  rtentry rt{};
  uint32_t dst = 0, prefix = 0;
  if (!route.destination().empty() && route.destination() != "default") {
    std::string d = route.destination();
    size_t slash = d.find('/');
    if (slash == std::string::npos)
      throw SandboxError(field + ".destination: \"" + d + "\" is not CIDR (a.b.c.d/n)");
    dst = parse_ipv4(d.substr(0, slash), field + ".destination");
    try {
      prefix = static_cast<uint32_t>(std::stoul(d.substr(slash + 1)));
    } catch (const std::exception&) {
      prefix = 99;
    }
    if (prefix > 32) throw SandboxError(field + ".destination: bad prefix length in \"" + d + "\"");
  }
  sockaddr_in sa = inet(dst);
  std::memcpy(&rt.rt_dst, &sa, sizeof sa);
  sa = inet(prefix_mask(prefix));
  std::memcpy(&rt.rt_genmask, &sa, sizeof sa);
  rt.rt_flags = RTF_UP;
  if (prefix == 32) rt.rt_flags |= RTF_HOST;
  if (!route.gateway().empty()) {
    sa = inet(parse_ipv4(route.gateway(), field + ".gateway"));
    std::memcpy(&rt.rt_gateway, &sa, sizeof sa);
    rt.rt_flags |= RTF_GATEWAY;
  }
  std::string dev = route.device();
  if (!dev.empty()) {
    if (dev.size() >= IFNAMSIZ)
      throw SandboxError(field + ".device: \"" + dev + "\" is not an interface name");
    rt.rt_dev = dev.data();
  }
  if (::ioctl(sock, SIOCADDRT, &rt) != 0 && errno != EEXIST) fail_errno(field + ": SIOCADDRT");
}

}  // namespace

uint32_t parse_ipv4(const std::string& text, const std::string& field) {
  in_addr a{};
  if (::inet_pton(AF_INET, text.c_str(), &a) != 1)
    throw SandboxError(field + ": \"" + text +
                       "\" is not an IPv4 address (IPv6 is not supported yet)");
  return a.s_addr;
}

std::string resolv_conf(const hull::agent::v1::DNS& dns) {
  std::string out;
  for (const auto& ns : dns.nameservers()) out += "nameserver " + ns + "\n";
  if (dns.searches_size()) {
    out += "search";
    for (const auto& s : dns.searches()) out += " " + s;
    out += "\n";
  }
  if (dns.options_size()) {
    out += "options";
    for (const auto& o : dns.options()) out += " " + o;
    out += "\n";
  }
  return out;
}

void Sandbox::create(const hull::agent::v1::CreateSandboxRequest& req) {
  std::lock_guard<std::mutex> g(mu_);
  if (created_) throw SandboxError("the sandbox already exists; DestroySandbox first");
  // Validate everything before changing anything.
  for (int i = 0; i < req.guest_mounts_size(); ++i) {
    const auto& m = req.guest_mounts(i);
    std::string f = "guest_mounts[" + std::to_string(i) + "]";
    if (m.mount_point().empty() || m.mount_point()[0] != '/' ||
        m.mount_point().find("..") != std::string::npos)
      throw SandboxError(f + ".mount_point: must be an absolute path without \"..\"");
    if (m.fstype().empty()) throw SandboxError(f + ".fstype: is required");
  }
  if ((req.interfaces_size() || req.routes_size()) && !config_.owns_machine)
    throw SandboxError(
        "interfaces/routes: the agent only configures the network as the guest's PID 1");
  if (req.hostname().size() > 64) throw SandboxError("hostname: longer than 64 characters");

  runtime::make_dirs(config_.state_dir, 0755);
  std::ofstream(resolv_conf_path()) << resolv_conf(req.dns());
  if (!req.hostname().empty() && config_.owns_machine &&
      ::sethostname(req.hostname().data(), req.hostname().size()) != 0)
    fail_errno("hostname: sethostname");
  try {
    for (int i = 0; i < req.guest_mounts_size(); ++i) {
      const auto& m = req.guest_mounts(i);
      std::vector<std::string> opts(m.options().begin(), m.options().end());
      runtime::MountOptions o = runtime::parse_mount_options(opts);
      runtime::make_dirs(m.mount_point(), 0755);
      if (::mount(m.source().c_str(), m.mount_point().c_str(), m.fstype().c_str(), o.flags,
                  o.data.empty() ? nullptr : o.data.c_str()) != 0)
        fail_errno("guest_mounts[" + std::to_string(i) + "]: mounting " + m.source() + " on " +
                   m.mount_point());
      mounts_.push_back(m.mount_point());
    }
    if (req.interfaces_size() || req.routes_size()) {
      UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
      if (!sock) fail_errno("socket(AF_INET)");
      for (int i = 0; i < req.interfaces_size(); ++i)
        configure_interface(sock.get(), req.interfaces(i), i);
      for (int i = 0; i < req.routes_size(); ++i) add_route(sock.get(), req.routes(i), i);
    }
  } catch (...) {
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
    mounts_.clear();
    throw;
  }
  created_ = true;
}

void Sandbox::destroy() {
  std::lock_guard<std::mutex> g(mu_);
  for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
  mounts_.clear();
  created_ = false;
}

}  // namespace hull::service
