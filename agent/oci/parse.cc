#include "oci/parse.h"

#include <sys/capability.h>
#include <sys/resource.h>

#include <array>
#include <nlohmann/json.hpp>
#include <utility>

namespace hull::oci {
namespace {

using json = nlohmann::json;

// A JSON value with the dotted path it was reached by, for error messages.
class Node {
 public:
  Node(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string& what) const { throw SpecError(path_ + ": " + what); }

  const json& raw() const { return j_; }
  const std::string& path() const { return path_; }
  bool has(const char* key) const { return j_.contains(key) && !j_.at(key).is_null(); }
  Node at(const char* key) const { return Node(j_.at(key), path_ + "." + key); }
  Node index(size_t i) const { return Node(j_.at(i), path_ + "[" + std::to_string(i) + "]"); }

  const json& object() const {
    if (!j_.is_object()) fail("must be an object");
    return j_;
  }
  size_t array_size() const {
    if (!j_.is_array()) fail("must be an array");
    return j_.size();
  }
  std::string str() const {
    if (!j_.is_string()) fail("must be a string");
    return j_.get<std::string>();
  }
  bool boolean() const {
    if (!j_.is_boolean()) fail("must be true or false");
    return j_.get<bool>();
  }
  int64_t i64() const {
    if (!j_.is_number_integer()) fail("must be an integer");
    if (j_.is_number_unsigned() && j_.get<uint64_t>() > uint64_t(INT64_MAX)) fail("is too large");
    return j_.get<int64_t>();
  }
  uint64_t u64() const {
    if (!j_.is_number_integer() || (!j_.is_number_unsigned() && j_.get<int64_t>() < 0))
      fail("must be a non-negative integer");
    return j_.get<uint64_t>();
  }
  uint32_t u32() const {
    uint64_t v = u64();
    if (v > UINT32_MAX) fail("must fit in 32 bits");
    return static_cast<uint32_t>(v);
  }
  std::vector<std::string> strings() const {
    std::vector<std::string> out;
    for (size_t i = 0, n = array_size(); i < n; ++i) out.push_back(index(i).str());
    return out;
  }

  // Optional members: absent or null leave the target untouched.
  template <typename F>
  void opt(const char* key, F&& f) const {
    if (has(key)) f(at(key));
  }

 private:
  const json& j_;
  std::string path_;
};

json parse_json(std::string_view text, const char* what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number too large
    throw SpecError(std::string(what) + ": not valid JSON (" + e.what() + ")");
  }
}

void require_absolute(const Node& n, const std::string& p) {
  if (p.empty() || p[0] != '/') n.fail("must be an absolute path, got \"" + p + "\"");
}

int capability_number(const Node& n) {
  std::string name = n.str();
  cap_value_t v;
  if (cap_from_name(name.c_str(), &v) != 0 || name.rfind("CAP_", 0) != 0)
    n.fail("unknown capability \"" + name + "\" (expected a name like CAP_NET_ADMIN)");
  return v;
}

std::vector<int> capability_list(const Node& n) {
  std::vector<int> out;
  for (size_t i = 0, c = n.array_size(); i < c; ++i) out.push_back(capability_number(n.index(i)));
  return out;
}

int rlimit_number(const Node& n) {
  static constexpr std::array<std::pair<const char*, int>, 16> kNames{{
      {"RLIMIT_AS", RLIMIT_AS},
      {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_CPU", RLIMIT_CPU},
      {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_FSIZE", RLIMIT_FSIZE},
      {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE},
      {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_NPROC", RLIMIT_NPROC},
      {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
      {"RLIMIT_RTTIME", RLIMIT_RTTIME},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_STACK", RLIMIT_STACK},
  }};
  std::string name = n.str();
  for (const auto& [k, v] : kNames)
    if (name == k) return v;
  n.fail("unknown rlimit \"" + name + "\" (expected e.g. RLIMIT_NOFILE)");
}

SeccompAction seccomp_action(const Node& n) {
  static constexpr std::array<std::pair<const char*, SeccompAction>, 9> kNames{{
      {"SCMP_ACT_KILL", SeccompAction::kill_thread},
      {"SCMP_ACT_KILL_THREAD", SeccompAction::kill_thread},
      {"SCMP_ACT_KILL_PROCESS", SeccompAction::kill_process},
      {"SCMP_ACT_TRAP", SeccompAction::trap},
      {"SCMP_ACT_ERRNO", SeccompAction::errno_ret},
      {"SCMP_ACT_TRACE", SeccompAction::trace},
      {"SCMP_ACT_ALLOW", SeccompAction::allow},
      {"SCMP_ACT_LOG", SeccompAction::log},
      {"SCMP_ACT_NOTIFY", SeccompAction::notify},
  }};
  std::string name = n.str();
  for (const auto& [k, v] : kNames)
    if (name == k) {
      if (v == SeccompAction::notify) n.fail("SCMP_ACT_NOTIFY is not supported by hull");
      return v;
    }
  n.fail("unknown seccomp action \"" + name + "\"");
}

User parse_user(const Node& n) {
  n.object();
  User u;
  n.opt("uid", [&](const Node& v) { u.uid = v.u32(); });
  n.opt("gid", [&](const Node& v) { u.gid = v.u32(); });
  n.opt("umask", [&](const Node& v) {
    u.umask = v.u32();
    if (*u.umask > 0777) v.fail("must be at most 0777");
  });
  n.opt("additionalGids", [&](const Node& v) {
    for (size_t i = 0, c = v.array_size(); i < c; ++i)
      u.additional_gids.push_back(v.index(i).u32());
  });
  n.opt("username", [&](const Node& v) { u.username = v.str(); });
  return u;
}

Process parse_process_node(const Node& n) {
  n.object();
  Process p;
  n.opt("terminal", [&](const Node& v) { p.terminal = v.boolean(); });
  n.opt("consoleSize", [&](const Node& v) {
    v.object();
    ConsoleSize cs;
    if (v.has("height")) cs.height = v.at("height").u32();
    if (v.has("width")) cs.width = v.at("width").u32();
    p.console_size = cs;
  });
  if (!n.has("user")) n.fail("user: is required (an object with uid and gid)");
  p.user = parse_user(n.at("user"));
  if (!n.has("args") || !n.at("args").raw().is_array() || n.at("args").raw().empty())
    throw SpecError(n.path() + ".args: must be a non-empty array");
  p.args = n.at("args").strings();
  n.opt("env", [&](const Node& v) {
    p.env = v.strings();
    for (size_t i = 0; i < p.env.size(); ++i)
      if (p.env[i].find('=') == std::string::npos || p.env[i][0] == '=')
        v.index(i).fail("must look like NAME=value");
  });
  if (!n.has("cwd")) n.fail("cwd: is required (an absolute path)");
  p.cwd = n.at("cwd").str();
  require_absolute(n.at("cwd"), p.cwd);
  n.opt("capabilities", [&](const Node& v) {
    v.object();
    Capabilities c;
    v.opt("bounding", [&](const Node& x) { c.bounding = capability_list(x); });
    v.opt("effective", [&](const Node& x) { c.effective = capability_list(x); });
    v.opt("inheritable", [&](const Node& x) { c.inheritable = capability_list(x); });
    v.opt("permitted", [&](const Node& x) { c.permitted = capability_list(x); });
    v.opt("ambient", [&](const Node& x) { c.ambient = capability_list(x); });
    p.capabilities = c;
  });
  n.opt("rlimits", [&](const Node& v) {
    for (size_t i = 0, c = v.array_size(); i < c; ++i) {
      Node r = v.index(i);
      r.object();
      if (!r.has("type") || !r.has("soft") || !r.has("hard")) r.fail("needs type, soft and hard");
      Rlimit rl{rlimit_number(r.at("type")), r.at("soft").u64(), r.at("hard").u64()};
      if (rl.soft > rl.hard) r.fail("soft must not exceed hard");
      for (const auto& other : p.rlimits)
        if (other.resource == rl.resource) r.at("type").fail("is listed twice");
      p.rlimits.push_back(rl);
    }
  });
  n.opt("noNewPrivileges", [&](const Node& v) { p.no_new_privileges = v.boolean(); });
  n.opt("oomScoreAdj", [&](const Node& v) {
    int64_t x = v.i64();
    if (x < -1000 || x > 1000) v.fail("must be between -1000 and 1000");
    p.oom_score_adj = static_cast<int>(x);
  });
  return p;
}

NamespaceType namespace_type(const Node& n) {
  std::string t = n.str();
  if (t == "pid") return NamespaceType::pid;
  if (t == "network") return NamespaceType::network;
  if (t == "mount") return NamespaceType::mount;
  if (t == "ipc") return NamespaceType::ipc;
  if (t == "uts") return NamespaceType::uts;
  if (t == "user") return NamespaceType::user;
  if (t == "cgroup") return NamespaceType::cgroup;
  n.fail("unknown namespace type \"" + t +
         "\" (expected pid, network, mount, ipc, uts, user or cgroup)");
}

std::vector<IdMapping> parse_id_mappings(const Node& n) {
  std::vector<IdMapping> out;
  for (size_t i = 0, c = n.array_size(); i < c; ++i) {
    Node m = n.index(i);
    m.object();
    if (!m.has("containerID") || !m.has("hostID") || !m.has("size"))
      m.fail("needs containerID, hostID and size");
    IdMapping im{m.at("containerID").u32(), m.at("hostID").u32(), m.at("size").u32()};
    if (im.size == 0) m.at("size").fail("must be at least 1");
    out.push_back(im);
  }
  return out;
}

Resources parse_resources_node(const Node& n) {
  n.object();
  Resources r;
  n.opt("memory", [&](const Node& m) {
    m.object();
    m.opt("limit", [&](const Node& v) { r.memory.limit = v.i64(); });
    m.opt("reservation", [&](const Node& v) { r.memory.reservation = v.i64(); });
    m.opt("swap", [&](const Node& v) { r.memory.swap = v.i64(); });
    if (r.memory.limit && *r.memory.limit < -1)
      m.at("limit").fail("must be -1 (unlimited) or a byte count");
    if (r.memory.swap && r.memory.limit && *r.memory.swap >= 0 && *r.memory.limit >= 0 &&
        *r.memory.swap < *r.memory.limit)
      m.at("swap").fail("must be at least memory.limit (it counts memory plus swap)");
  });
  n.opt("cpu", [&](const Node& c) {
    c.object();
    c.opt("shares", [&](const Node& v) { r.cpu.shares = v.u64(); });
    c.opt("quota", [&](const Node& v) { r.cpu.quota = v.i64(); });
    c.opt("period", [&](const Node& v) {
      r.cpu.period = v.u64();
      if (*r.cpu.period < 1000 || *r.cpu.period > 1000000)
        v.fail("must be between 1000 and 1000000 microseconds");
    });
    c.opt("cpus", [&](const Node& v) { r.cpu.cpus = v.str(); });
    c.opt("mems", [&](const Node& v) { r.cpu.mems = v.str(); });
  });
  n.opt("pids", [&](const Node& p) {
    p.object();
    p.opt("limit", [&](const Node& v) { r.pids_limit = v.i64(); });
  });
  n.opt("blockIO", [&](const Node& b) {
    b.object();
    b.opt("weight", [&](const Node& v) {
      uint64_t w = v.u64();
      if (w == 0) return;  // not set: Docker writes 0, which runc leaves alone too
      if (w < 10 || w > 1000) v.fail("must be between 10 and 1000 (or 0: not set)");
      r.blkio_weight = static_cast<uint16_t>(w);
    });
  });
  n.opt("unified", [&](const Node& u) {
    for (const auto& [k, v] : u.object().items()) {
      Node item = u.at(k.c_str());
      if (k.empty() || k.find('/') != std::string::npos || k.find("..") != std::string::npos ||
          k.find('.') == std::string::npos)
        item.fail("is not a cgroup v2 interface file name");
      r.unified[k] = item.str();
    }
  });
  return r;
}

Seccomp parse_seccomp(const Node& n) {
  n.object();
  Seccomp s;
  if (!n.has("defaultAction")) n.fail("defaultAction: is required");
  s.default_action = seccomp_action(n.at("defaultAction"));
  n.opt("defaultErrnoRet", [&](const Node& v) { s.default_errno_ret = v.u32(); });
  n.opt("architectures", [&](const Node& v) { s.architectures = v.strings(); });
  n.opt("flags", [&](const Node& v) { v.strings(); });  // accepted, not applied
  n.opt("syscalls", [&](const Node& v) {
    for (size_t i = 0, c = v.array_size(); i < c; ++i) {
      Node sc = v.index(i);
      sc.object();
      SeccompRule rule;
      if (!sc.has("names") || sc.at("names").array_size() == 0)
        sc.fail("names: must be a non-empty array");
      rule.names = sc.at("names").strings();
      if (!sc.has("action")) sc.fail("action: is required");
      rule.action = seccomp_action(sc.at("action"));
      sc.opt("errnoRet", [&](const Node& e) { rule.errno_ret = e.u32(); });
      sc.opt("args", [&](const Node& a) {
        for (size_t j = 0, m = a.array_size(); j < m; ++j) {
          Node arg = a.index(j);
          arg.object();
          SeccompArg sa;
          if (!arg.has("index") || !arg.has("value") || !arg.has("op"))
            arg.fail("needs index, value and op");
          sa.index = arg.at("index").u32();
          if (sa.index > 5) arg.at("index").fail("must be 0..5");
          sa.value = arg.at("value").u64();
          arg.opt("valueTwo", [&](const Node& x) { sa.value_two = x.u64(); });
          sa.op = arg.at("op").str();
          static constexpr std::array<const char*, 7> kOps{
              "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",       "SCMP_CMP_EQ",
              "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};
          bool known = false;
          for (const char* op : kOps) known = known || sa.op == op;
          if (!known) arg.at("op").fail("unknown comparison \"" + sa.op + "\"");
          rule.args.push_back(sa);
        }
      });
      s.syscalls.push_back(std::move(rule));
    }
  });
  return s;
}

std::vector<Hook> parse_hooks(const Node& n) {
  std::vector<Hook> out;
  for (size_t i = 0, c = n.array_size(); i < c; ++i) {
    Node h = n.index(i);
    h.object();
    Hook hook;
    if (!h.has("path")) h.fail("path: is required");
    hook.path = h.at("path").str();
    require_absolute(h.at("path"), hook.path);
    h.opt("args", [&](const Node& v) { hook.args = v.strings(); });
    h.opt("env", [&](const Node& v) { hook.env = v.strings(); });
    h.opt("timeout", [&](const Node& v) {
      int64_t t = v.i64();
      if (t <= 0) v.fail("must be a positive number of seconds");
      hook.timeout_seconds = static_cast<int>(t);
    });
    out.push_back(std::move(hook));
  }
  return out;
}

Linux parse_linux(const Node& n) {
  n.object();
  Linux l;
  n.opt("namespaces", [&](const Node& v) {
    for (size_t i = 0, c = v.array_size(); i < c; ++i) {
      Node ns = v.index(i);
      ns.object();
      if (!ns.has("type")) ns.fail("type: is required");
      Namespace x{namespace_type(ns.at("type")), ""};
      ns.opt("path", [&](const Node& p) {
        x.path = p.str();
        require_absolute(p, x.path);
      });
      if (l.has_namespace(x.type)) ns.at("type").fail("namespace is listed twice");
      l.namespaces.push_back(x);
    }
  });
  n.opt("uidMappings", [&](const Node& v) { l.uid_mappings = parse_id_mappings(v); });
  n.opt("gidMappings", [&](const Node& v) { l.gid_mappings = parse_id_mappings(v); });
  n.opt("resources", [&](const Node& v) { l.resources = parse_resources_node(v); });
  n.opt("cgroupsPath", [&](const Node& v) {
    l.cgroups_path = v.str();
    if (l.cgroups_path.find("..") != std::string::npos) v.fail("must not contain \"..\"");
    if (l.cgroups_path.find(':') != std::string::npos)
      v.fail(
          "systemd-style \"slice:prefix:name\" paths are not supported in the guest; use a path");
  });
  n.opt("sysctl", [&](const Node& v) {
    for (const auto& [k, val] : v.object().items()) {
      Node item = v.at(k.c_str());
      if (k.empty() || k.find('/') != std::string::npos || k.find("..") != std::string::npos)
        item.fail("is not a sysctl name (expected e.g. net.ipv4.ip_forward)");
      l.sysctl[k] = item.str();
    }
  });
  n.opt("maskedPaths", [&](const Node& v) {
    l.masked_paths = v.strings();
    for (size_t i = 0; i < l.masked_paths.size(); ++i)
      require_absolute(v.index(i), l.masked_paths[i]);
  });
  n.opt("readonlyPaths", [&](const Node& v) {
    l.readonly_paths = v.strings();
    for (size_t i = 0; i < l.readonly_paths.size(); ++i)
      require_absolute(v.index(i), l.readonly_paths[i]);
  });
  n.opt("seccomp", [&](const Node& v) { l.seccomp = parse_seccomp(v); });
  n.opt("devices", [&](const Node& v) {
    for (size_t i = 0, c = v.array_size(); i < c; ++i) {
      Node d = v.index(i);
      d.object();
      Device dev;
      if (!d.has("type") || !d.has("path")) d.fail("needs type and path");
      std::string t = d.at("type").str();
      if (t != "c" && t != "b" && t != "u" && t != "p")
        d.at("type").fail("must be one of c, b, u, p");
      dev.type = t[0];
      dev.path = d.at("path").str();
      require_absolute(d.at("path"), dev.path);
      if (dev.type != 'p') {
        if (!d.has("major") || !d.has("minor"))
          d.fail("character and block devices need major and minor");
        dev.major = d.at("major").i64();
        dev.minor = d.at("minor").i64();
      }
      d.opt("fileMode", [&](const Node& x) { dev.file_mode = x.u32(); });
      d.opt("uid", [&](const Node& x) { dev.uid = x.u32(); });
      d.opt("gid", [&](const Node& x) { dev.gid = x.u32(); });
      l.devices.push_back(dev);
    }
  });
  n.opt("rootfsPropagation", [&](const Node& v) {
    l.rootfs_propagation = v.str();
    static constexpr std::array<const char*, 8> kKinds{
        "shared", "rshared", "slave", "rslave", "private", "rprivate", "unbindable", "runbindable"};
    bool ok = false;
    for (const char* k : kKinds) ok = ok || l.rootfs_propagation == k;
    if (!ok) v.fail("must be one of shared, slave, private, unbindable (optionally r-prefixed)");
  });
  return l;
}

}  // namespace

const char* namespace_type_name(NamespaceType t) {
  switch (t) {
    case NamespaceType::pid:
      return "pid";
    case NamespaceType::network:
      return "network";
    case NamespaceType::mount:
      return "mount";
    case NamespaceType::ipc:
      return "ipc";
    case NamespaceType::uts:
      return "uts";
    case NamespaceType::user:
      return "user";
    case NamespaceType::cgroup:
      return "cgroup";
  }
  return "?";
}

Spec parse_spec(std::string_view json_text) {
  json j = parse_json(json_text, "config.json");
  Node root(j, "config");
  if (!j.is_object()) throw SpecError("config.json: must be a JSON object");
  Spec s;
  if (!root.has("ociVersion")) throw SpecError("ociVersion: is required (e.g. \"1.0.2\")");
  s.oci_version = root.at("ociVersion").str();
  if (s.oci_version.rfind("1.", 0) != 0)
    throw SpecError("ociVersion: \"" + s.oci_version + "\" is not a 1.x runtime-spec version");
  if (!root.has("process")) throw SpecError("process: is required");
  s.process = parse_process_node(Node(j.at("process"), "process"));
  if (root.has("root")) {
    Node r(j.at("root"), "root");
    r.object();
    if (!r.has("path")) r.fail("path: is required");
    s.root_path = r.at("path").str();
    if (s.root_path.empty()) r.at("path").fail("must not be empty");
    r.opt("readonly", [&](const Node& v) { s.root_readonly = v.boolean(); });
  }
  if (root.has("hostname")) s.hostname = Node(j.at("hostname"), "hostname").str();
  if (s.hostname.size() > 64) throw SpecError("hostname: longer than 64 characters");
  if (root.has("mounts")) {
    Node m(j.at("mounts"), "mounts");
    for (size_t i = 0, c = m.array_size(); i < c; ++i) {
      Node e = m.index(i);
      e.object();
      Mount mt;
      if (!e.has("destination")) e.fail("destination: is required");
      mt.destination = e.at("destination").str();
      require_absolute(e.at("destination"), mt.destination);
      e.opt("type", [&](const Node& v) { mt.type = v.str(); });
      e.opt("source", [&](const Node& v) { mt.source = v.str(); });
      e.opt("options", [&](const Node& v) { mt.options = v.strings(); });
      s.mounts.push_back(std::move(mt));
    }
  }
  if (root.has("linux")) s.linux = parse_linux(Node(j.at("linux"), "linux"));
  if (root.has("hooks")) {
    Node h(j.at("hooks"), "hooks");
    h.object();
    if (h.has("prestart"))
      h.at("prestart")
          .fail(
              "prestart hooks run in the runtime namespace on the host; hull's guest agent does "
              "not run them (use createRuntime)");
    h.opt("createRuntime", [&](const Node& v) { s.hooks.create_runtime = parse_hooks(v); });
    h.opt("createContainer", [&](const Node& v) { s.hooks.create_container = parse_hooks(v); });
    h.opt("startContainer", [&](const Node& v) { s.hooks.start_container = parse_hooks(v); });
    h.opt("poststart", [&](const Node& v) { s.hooks.poststart = parse_hooks(v); });
    h.opt("poststop", [&](const Node& v) { s.hooks.poststop = parse_hooks(v); });
  }
  if (!s.linux.uid_mappings.empty() && !s.linux.has_namespace(NamespaceType::user))
    throw SpecError("linux.uidMappings: given without a user namespace in linux.namespaces");
  if (s.linux.has_namespace(NamespaceType::user) && s.linux.uid_mappings.empty()) {
    bool joins = false;
    for (const auto& ns : s.linux.namespaces)
      joins = joins || (ns.type == NamespaceType::user && !ns.path.empty());
    if (!joins)
      throw SpecError("linux.uidMappings: a new user namespace needs uidMappings and gidMappings");
  }
  return s;
}

Process parse_process(std::string_view json_text) {
  json j = parse_json(json_text, "process");
  return parse_process_node(Node(j, "process"));
}

Resources parse_resources(std::string_view json_text) {
  json j = parse_json(json_text, "resources");
  return parse_resources_node(Node(j, "resources"));
}

}  // namespace hull::oci
