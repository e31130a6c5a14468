#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include "oci/parse.h"

namespace hull::oci {
namespace {

using json = nlohmann::json;

json minimal() {
  return json::parse(R"({
    "ociVersion": "1.0.2",
    "process": {"user": {"uid": 0, "gid": 0}, "args": ["/bin/sh"], "cwd": "/"},
    "root": {"path": "rootfs"}
  })");
}

// The message of the SpecError thrown for `j`, or "" when it parses.
std::string error_of(const json& j) {
  try {
    parse_spec(j.dump());
  } catch (const SpecError& e) {
    return e.what();
  }
  return "";
}

TEST(AgentOciParse, MinimalSpec) {
  Spec s = parse_spec(minimal().dump());
  EXPECT_EQ(s.process.args, std::vector<std::string>{"/bin/sh"});
  EXPECT_EQ(s.root_path, "rootfs");
  EXPECT_FALSE(s.process.terminal);
  EXPECT_FALSE(s.process.capabilities.has_value());
}

TEST(AgentOciParse, FullProcess) {
  json j = minimal();
  j["process"] = json::parse(R"({
    "terminal": true, "consoleSize": {"height": 40, "width": 120},
    "user": {"uid": 1000, "gid": 100, "umask": 18, "additionalGids": [5, 6]},
    "args": ["sh", "-c", "id"], "env": ["PATH=/bin", "A=b=c"], "cwd": "/tmp",
    "capabilities": {"bounding": ["CAP_CHOWN", "CAP_NET_ADMIN"], "effective": ["CAP_CHOWN"]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096}],
    "noNewPrivileges": true, "oomScoreAdj": -500})");
  Spec s = parse_spec(j.dump());
  EXPECT_TRUE(s.process.terminal);
  EXPECT_EQ(s.process.console_size->width, 120u);
  EXPECT_EQ(s.process.user.uid, 1000u);
  EXPECT_EQ(s.process.user.additional_gids, (std::vector<uint32_t>{5, 6}));
  EXPECT_EQ(*s.process.user.umask, 18u);
  EXPECT_EQ(s.process.capabilities->bounding, (std::vector<int>{CAP_CHOWN, CAP_NET_ADMIN}));
  ASSERT_EQ(s.process.rlimits.size(), 1u);
  EXPECT_EQ(s.process.rlimits[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(s.process.rlimits[0].hard, 4096u);
  EXPECT_TRUE(s.process.no_new_privileges);
  EXPECT_EQ(*s.process.oom_score_adj, -500);
}

TEST(AgentOciParse, LinuxSection) {
  json j = minimal();
  j["linux"] = json::parse(R"({
    "namespaces": [{"type": "pid"}, {"type": "network", "path": "/var/run/netns/x"}],
    "resources": {"memory": {"limit": 1048576}, "cpu": {"quota": 50000, "period": 100000},
                  "pids": {"limit": 32}, "unified": {"memory.high": "max"}},
    "cgroupsPath": "/hull/abc",
    "sysctl": {"net.ipv4.ip_forward": "1"},
    "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"],
    "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
       {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
        "args": [{"index": 1, "value": 0, "op": "SCMP_CMP_NE"}]}]},
    "devices": [{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229}]})");
  Spec s = parse_spec(j.dump());
  ASSERT_EQ(s.linux.namespaces.size(), 2u);
  EXPECT_EQ(s.linux.namespaces[1].path, "/var/run/netns/x");
  EXPECT_TRUE(s.linux.has_namespace(NamespaceType::pid));
  EXPECT_FALSE(s.linux.has_namespace(NamespaceType::user));
  EXPECT_EQ(*s.linux.resources.memory.limit, 1048576);
  EXPECT_EQ(*s.linux.resources.pids_limit, 32);
  EXPECT_EQ(s.linux.resources.unified.at("memory.high"), "max");
  EXPECT_EQ(s.linux.seccomp->syscalls[0].action, SeccompAction::errno_ret);
  EXPECT_EQ(*s.linux.seccomp->syscalls[0].errno_ret, 1u);
  EXPECT_EQ(s.linux.devices[0].major, 10);
}

struct BadCase {
  const char* pointer;   // JSON pointer to replace
  const char* value;     // JSON text
  const char* expected;  // substring of the error
};

class AgentOciParseRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(AgentOciParseRejects, NamesTheField) {
  json j = minimal();
  const BadCase& c = GetParam();
  j[json::json_pointer(c.pointer)] = json::parse(c.value);
  std::string err = error_of(j);
  EXPECT_NE(err.find(c.expected), std::string::npos) << "error was: \"" << err << "\"";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, AgentOciParseRejects,
    ::testing::Values(
        BadCase{"/process/args", "[]", "process.args: must be a non-empty array"},
        BadCase{"/process/args", "\"sh\"", "process.args: must be a non-empty array"},
        BadCase{"/process/args", "[1]", "process.args[0]: must be a string"},
        BadCase{"/process/cwd", "\"tmp\"", "process.cwd: must be an absolute path"},
        BadCase{"/process/env", "[\"NOVALUE\"]", "process.env[0]: must look like NAME=value"},
        BadCase{"/process/user/uid", "-1", "process.user.uid: must be a non-negative integer"},
        BadCase{"/process/capabilities", "{\"bounding\": [\"CAP_BOGUS\"]}",
                "process.capabilities.bounding[0]: unknown capability \"CAP_BOGUS\""},
        BadCase{"/process/rlimits", "[{\"type\": \"RLIMIT_X\", \"soft\": 1, \"hard\": 1}]",
                "process.rlimits[0].type: unknown rlimit"},
        BadCase{"/process/rlimits", "[{\"type\": \"RLIMIT_NOFILE\", \"soft\": 9, \"hard\": 1}]",
                "process.rlimits[0]: soft must not exceed hard"},
        BadCase{"/process/oomScoreAdj", "5000",
                "process.oomScoreAdj: must be between -1000 and 1000"},
        BadCase{"/ociVersion", "\"2.0\"", "ociVersion: \"2.0\" is not a 1.x"},
        BadCase{"/root/path", "\"\"", "root.path: must not be empty"},
        BadCase{"/mounts", "[{\"destination\": \"proc\"}]",
                "mounts[0].destination: must be an absolute path"},
        BadCase{"/linux", "{\"namespaces\": [{\"type\": \"time2\"}]}",
                "linux.namespaces[0].type: unknown namespace type \"time2\""},
        BadCase{"/linux", "{\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"pid\"}]}",
                "linux.namespaces[1].type: namespace is listed twice"},
        BadCase{"/linux", "{\"namespaces\": [{\"type\": \"user\"}]}", "needs uidMappings"},
        BadCase{"/linux", "{\"cgroupsPath\": \"/a/../../b\"}",
                "linux.cgroupsPath: must not contain"},
        BadCase{"/linux", "{\"cgroupsPath\": \"system.slice:hull:x\"}", "systemd-style"},
        BadCase{"/linux", "{\"resources\": {\"unified\": {\"../x\": \"1\"}}}",
                "linux.resources.unified.../x: is not a cgroup v2 interface file name"},
        BadCase{"/linux", "{\"resources\": {\"cpu\": {\"period\": 5}}}",
                "linux.resources.cpu.period: must be between"},
        BadCase{"/linux", "{\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOPE\"}}",
                "linux.seccomp.defaultAction: unknown seccomp action"},
        BadCase{"/linux",
                "{\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
                "[]}]}}",
                "linux.seccomp.syscalls[0]: names: must be a non-empty array"},
        BadCase{"/linux", "{\"devices\": [{\"type\": \"x\", \"path\": \"/dev/a\"}]}",
                "linux.devices[0].type: must be one of c, b, u, p"},
        BadCase{"/linux", "{\"sysctl\": {\"a/b\": \"1\"}}", "is not a sysctl name"},
        BadCase{"/hooks", "{\"prestart\": []}", "hooks.prestart"},
        BadCase{"/hooks", "{\"poststop\": [{\"path\": \"rel\"}]}",
                "hooks.poststop[0].path: must be an absolute path"}),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      return "case" + std::to_string(info.index);
    });

TEST(AgentOciParse, RejectsBrokenJson) {
  EXPECT_THROW(parse_spec("{"), SpecError);
  EXPECT_THROW(parse_spec("[]"), SpecError);
  EXPECT_THROW(parse_spec("{\"ociVersion\": \"1.0.2\"}"), SpecError);
}

TEST(AgentOciParse, ProcessAndResourcesAlone) {
  Process p = parse_process(R"({"user": {"uid": 1, "gid": 2}, "args": ["ls"], "cwd": "/"})");
  EXPECT_EQ(p.user.gid, 2u);
  EXPECT_THROW(parse_process(R"({"user": {}, "args": [], "cwd": "/"})"), SpecError);
  Resources r = parse_resources(R"({"pids": {"limit": 10}})");
  EXPECT_EQ(*r.pids_limit, 10);
  EXPECT_THROW(parse_resources(R"({"pids": {"limit": "ten"}})"), SpecError);
}

// Found by tests/fuzz/oci_config: a number too large for a double made
// nlohmann throw out_of_range (not parse_error), which escaped as a
// non-SpecError exception.
TEST(AgentOciParse, NumberOverflowIsASpecError) {
  EXPECT_THROW(parse_spec("2222222222222222222222222222222e2222222"), SpecError);
  EXPECT_THROW(parse_process(R"({"args": ["/bin/sh"], "cwd": "/", "user": {"uid": 1e999}})"), SpecError);
  EXPECT_THROW(parse_resources(R"({"memory": {"limit": 9e99999}})"), SpecError);
}

}  // namespace
}  // namespace hull::oci
