// Host-side OCI hooks (prestart, createRuntime, poststart, poststop): what
// runs them (state on stdin, args, env, timeout, failures) and how they are
// parsed from config.json and kept out of the guest's spec.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "sandbox/host_hooks.h"
#include "sandbox/sandbox_error.h"

namespace hull::shim {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

class HostHooksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-hooks-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Slurp(const fs::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  // A hook running `sh -c script` with the given environment.
  OciHook Shell(const std::string& script, std::vector<std::string> env = {}) {
    return {"/bin/sh", {"sh", "-c", script}, std::move(env), std::nullopt};
  }
  fs::path dir_;
};

TEST_F(HostHooksTest, HookReadsTheStateOnStdin) {
  HookState state;
  state.oci_version = "1.0.2-dev";
  state.id = "c1";
  state.status = "creating";
  state.pid = 4242;
  state.bundle = "/b";
  state.annotations = {{"k", "v"}};
  const fs::path out = dir_ / "state";
  RunHooks({Shell("cat > " + out.string())}, "prestart", HookStateJson(state));
  const json got = json::parse(Slurp(out));
  EXPECT_EQ(got["ociVersion"], "1.0.2-dev");
  EXPECT_EQ(got["id"], "c1");
  EXPECT_EQ(got["status"], "creating");
  EXPECT_EQ(got["pid"], 4242);
  EXPECT_EQ(got["bundle"], "/b");
  EXPECT_EQ(got["annotations"]["k"], "v");
}

TEST_F(HostHooksTest, StoppedStateHasNoPid) {
  HookState state;
  state.id = "c1";
  state.status = "stopped";
  EXPECT_FALSE(json::parse(HookStateJson(state)).contains("pid"));
}

TEST_F(HostHooksTest, HookGetsExactlyItsArgsAndEnv) {
  const fs::path out = dir_ / "seen";
  // sh -c SCRIPT ZERO ONE: the args reach the hook as given; the environment is only the hook's.
  OciHook hook{"/bin/sh", {"my-name", "-c", "echo \"$0 $1 $HOOK_VAR ${HOME:-nohome}\" > " + out.string(), "zero", "arg1"},
               {"HOOK_VAR=hello"}, std::nullopt};
  ::setenv("HOME", "/should/not/leak", 1);
  RunHooks({hook}, "poststart", "{}");
  EXPECT_EQ(Slurp(out), "zero arg1 hello nohome\n");
}

TEST_F(HostHooksTest, HooksRunInOrderAndStopAtTheFirstFailure) {
  const fs::path out = dir_ / "order";
  const std::string f = out.string();
  try {
    RunHooks({Shell("echo one >> " + f), Shell("echo bad >&2; exit 3"), Shell("echo three >> " + f)},
             "createRuntime", "{}");
    FAIL() << "a failing hook must fail the phase";
  } catch (const SandboxError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("createRuntime hook 1 (/bin/sh)"), std::string::npos) << m;
    EXPECT_NE(m.find("exited with status 3"), std::string::npos) << m;
    EXPECT_NE(m.find("bad"), std::string::npos) << m;
  }
  EXPECT_EQ(Slurp(out), "one\n");
}

TEST_F(HostHooksTest, HookPastItsTimeoutIsKilled) {
  OciHook hook = Shell("sleep 30");
  hook.timeout_s = 1;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    RunHooks({hook}, "prestart", "{}");
    FAIL() << "a hook past its timeout must fail";
  } catch (const SandboxError& e) {
    EXPECT_NE(std::string(e.what()).find("timeout of 1 s"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

TEST_F(HostHooksTest, MissingHookProgramSaysNoSuchFile) {
  OciHook hook{"/no/such/hook", {}, {}, std::nullopt};
  try {
    RunHooks({hook}, "prestart", "{}");
    FAIL() << "a hook that cannot run must fail";
  } catch (const SandboxError& e) {
    EXPECT_NE(std::string(e.what()).find("no such file or directory"), std::string::npos) << e.what();
  }
}

TEST_F(HostHooksTest, HookThatIgnoresALargeStateDoesNotBlock) {
  HookState state;
  state.id = "c1";
  state.status = "creating";
  state.annotations = {{"big", std::string(1 << 20, 'x')}};  // far over a socket's buffer
  RunHooks({Shell("exit 0")}, "prestart", HookStateJson(state));
}

TEST_F(HostHooksTest, ParsesHostPhasesAndLeavesTheGuestItsOwn) {
  json config = {{"ociVersion", "1.0.2"},
                 {"hooks",
                  {{"prestart", {{{"path", "/proc/1/exe"}, {"args", {"x", "setkey"}}, {"timeout", 5}}}},
                   {"createRuntime", {{{"path", "/bin/true"}}}},
                   {"createContainer", {{{"path", "/in/guest"}}}},
                   {"poststart", {{{"path", "/bin/true"}, {"env", {"A=1"}}}}},
                   {"poststop", {{{"path", "/bin/false"}}}}}}};
  const HostHooks h = HostHooksFrom(config);
  ASSERT_EQ(h.prestart.size(), 1u);
  EXPECT_EQ(h.prestart[0].path, "/proc/1/exe");
  EXPECT_EQ(h.prestart[0].args, (std::vector<std::string>{"x", "setkey"}));
  EXPECT_EQ(h.prestart[0].timeout_s, 5);
  EXPECT_EQ(h.create_runtime.size(), 1u);
  EXPECT_EQ(h.poststart[0].env, std::vector<std::string>{"A=1"});
  EXPECT_EQ(h.poststop[0].path, "/bin/false");
  RemoveHostHooks(config);
  EXPECT_EQ(config["hooks"], (json{{"createContainer", {{{"path", "/in/guest"}}}}}));
  json only_host = {{"hooks", {{"prestart", {{{"path", "/bin/true"}}}}}}};
  RemoveHostHooks(only_host);
  EXPECT_FALSE(only_host.contains("hooks"));
}

TEST_F(HostHooksTest, MalformedHooksAreRefusedByName) {
  auto error_of = [](const json& config) -> std::string {
    try {
      HostHooksFrom(config);
    } catch (const SandboxError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of({{"hooks", {{"prestart", {{{"path", "relative/hook"}}}}}}}).find("hooks.prestart[0].path"),
            std::string::npos);
  EXPECT_NE(error_of({{"hooks", {{"poststop", {{{"path", "/x"}, {"timeout", 0}}}}}}}).find("timeout"),
            std::string::npos);
  EXPECT_NE(error_of({{"hooks", {{"poststart", {{{"path", "/x"}, {"args", {1}}}}}}}}).find("args"),
            std::string::npos);
  EXPECT_NE(error_of({{"hooks", {{"createRuntime", "x"}}}}).find("must be an array"), std::string::npos);
}

TEST_F(HostHooksTest, StoredHooksRoundTrip) {
  StoredHostHooks stored;
  stored.oci_version = "1.0.2";
  stored.hooks.poststop = {{"/bin/echo", {"echo", "bye"}, {"X=1"}, 7}};
  SaveHostHooks(dir_ / "host-hooks.json", stored);
  const auto back = LoadHostHooks(dir_ / "host-hooks.json");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->oci_version, "1.0.2");
  ASSERT_EQ(back->hooks.poststop.size(), 1u);
  EXPECT_EQ(back->hooks.poststop[0].args, (std::vector<std::string>{"echo", "bye"}));
  EXPECT_EQ(back->hooks.poststop[0].timeout_s, 7);
  EXPECT_FALSE(LoadHostHooks(dir_ / "absent.json").has_value());
}

}  // namespace
}  // namespace hull::shim
