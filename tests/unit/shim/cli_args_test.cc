// `hull` CLI pieces without a VM: bundle reading and its errors, signal names,
// exec process building, the list table, features, and runc-style argument
// errors of the verbs (parsed by the real CLI11 app).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli/bundle_config.h"
#include "cli/exec_process.h"
#include "cli/pod_guest_network.h"
#include "cli/signal_names.h"
#include "cli/verb.h"
#include "cli/verb_util.h"
#include "sandbox/sandbox_error.h"

namespace hull::cli {
namespace {
namespace fs = std::filesystem;
using shim::SandboxError;

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const SandboxError& e) {
    return e.what();
  }
  return "(no error)";
}

class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-bundle-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& config) { std::ofstream(dir_ / "config.json") << config; }
  fs::path dir_;
};

TEST_F(BundleTest, ReadsConfigRootfsAnnotationsTerminal) {
  fs::create_directory(dir_ / "rootfs");
  Write(R"({"process":{"terminal":true,"args":["sh"]},"root":{"path":"rootfs"},
            "annotations":{"org.example":"1"}})");
  const BundleConfig b = LoadBundleConfig(dir_);
  EXPECT_EQ(b.rootfs, fs::canonical(dir_ / "rootfs"));
  EXPECT_TRUE(b.terminal);
  EXPECT_EQ(b.annotations.at("org.example"), "1");
  EXPECT_TRUE(b.bundle.is_absolute());
}

TEST_F(BundleTest, ErrorsNameTheProblem) {
  EXPECT_NE(ErrorOf([&] { LoadBundleConfig(dir_ / "missing"); }).find("does not exist"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] { LoadBundleConfig(dir_); }).find("no config.json"), std::string::npos);
  Write("{oops");
  EXPECT_NE(ErrorOf([&] { LoadBundleConfig(dir_); }).find("not a JSON object"), std::string::npos);
  Write(R"({"root":{"path":"rootfs"}})");
  EXPECT_NE(ErrorOf([&] { LoadBundleConfig(dir_); }).find("no \"process\""), std::string::npos);
  Write(R"({"process":{"args":["sh"]},"root":{"path":"nowhere"}})");
  EXPECT_NE(ErrorOf([&] { LoadBundleConfig(dir_); }).find("nowhere"), std::string::npos);
  fs::create_directory(dir_ / "rootfs");
  Write(R"({"process":{"args":["sh"],"terminal":"yes"}})");
  EXPECT_NE(ErrorOf([&] { LoadBundleConfig(dir_); }).find("process.terminal"), std::string::npos);
  Write(R"({"process":{"args":["sh"]},"annotations":{"a":1}})");
  EXPECT_NE(ErrorOf([&] { LoadBundleConfig(dir_); }).find("annotation 'a'"), std::string::npos);
}

TEST(Signals, NumbersNamesAndSigNames) {
  EXPECT_EQ(ParseSignal("9"), 9);
  EXPECT_EQ(ParseSignal("KILL"), 9);
  EXPECT_EQ(ParseSignal("SIGKILL"), 9);
  EXPECT_EQ(ParseSignal("sigterm"), 15);
  EXPECT_EQ(ParseSignal("TERM"), 15);
  EXPECT_EQ(ParseSignal("64"), 64);
  EXPECT_FALSE(ParseSignal("0"));
  EXPECT_FALSE(ParseSignal("65"));
  EXPECT_FALSE(ParseSignal("9x"));
  EXPECT_FALSE(ParseSignal("SIGNOPE"));
  EXPECT_FALSE(ParseSignal(""));
}

TEST(ExecProcess, BuiltOnTheContainersProcess) {
  const nlohmann::json base = {{"args", {"sh"}},
                               {"env", {"PATH=/bin"}},
                               {"cwd", "/work"},
                               {"terminal", true},
                               {"user", {{"uid", 5}, {"gid", 6}}}};
  ExecRequest r;
  r.args = {"echo", "hi"};
  r.env = {"A=1"};
  nlohmann::json p = BuildExecProcess(r, base);
  EXPECT_EQ(p["args"], nlohmann::json({"echo", "hi"}));
  EXPECT_EQ(p["env"], nlohmann::json({"PATH=/bin", "A=1"}));
  EXPECT_EQ(p["cwd"], "/work");
  EXPECT_EQ(p["terminal"], false);  // only -t gives an exec a terminal
  EXPECT_EQ(p["user"]["uid"], 5);
  r.user = "1000:100";
  r.cwd = "/tmp";
  r.tty = true;
  p = BuildExecProcess(r, base);
  EXPECT_EQ(p["user"]["uid"], 1000);
  EXPECT_EQ(p["user"]["gid"], 100);
  EXPECT_EQ(p["cwd"], "/tmp");
  EXPECT_EQ(p["terminal"], true);
}

TEST(ExecProcess, BadInput) {
  ExecRequest r;
  EXPECT_NE(ErrorOf([&] { BuildExecProcess(r, {}); }).find("no command"), std::string::npos);
  r.args = {"x"};
  r.env = {"NOEQUALS"};
  EXPECT_NE(ErrorOf([&] { BuildExecProcess(r, {}); }).find("KEY=VALUE"), std::string::npos);
  r.env.clear();
  r.user = "bob";
  EXPECT_NE(ErrorOf([&] { BuildExecProcess(r, {}); }).find("numeric"), std::string::npos);
  r.user.clear();
  r.process_file = "/no/such/process.json";
  EXPECT_NE(ErrorOf([&] { BuildExecProcess(r, {}); }).find("/no/such/process.json"), std::string::npos);
}

TEST(ExecProcess, FromProcessFile) {
  char tmpl[] = "/tmp/hull-process-test.XXXXXX";
  const int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(tmpl) << R"({"args":["ls"],"terminal":true,"cwd":"/","user":{"uid":0,"gid":0}})";
  ExecRequest r;
  r.process_file = tmpl;
  const nlohmann::json p = BuildExecProcess(r, nlohmann::json::object());
  EXPECT_EQ(p["args"], nlohmann::json({"ls"}));
  EXPECT_EQ(p["terminal"], true);
  fs::remove(tmpl);
}

TEST(ListTable, PaddedLikeRuncsTabwriter) {
  const std::vector<nlohmann::json> states = {
      {{"id", "c1"}, {"pid", 42}, {"status", "running"}, {"bundle", "/b"},
       {"created", "2026-01-01T00:00:00Z"}, {"owner", "root"}}};
  const std::string table = RenderListTable(states);
  EXPECT_EQ(table,
            "ID          PID         STATUS      BUNDLE      CREATED                OWNER\n"
            "c1          42          running     /b          2026-01-01T00:00:00Z   root\n");
}

TEST(Features, RuntimeSpecShape) {
  const nlohmann::json f = FeaturesJson();
  EXPECT_EQ(f["ociVersionMin"], "1.0.0");
  EXPECT_TRUE(f["linux"]["cgroup"]["v2"].get<bool>());
  EXPECT_TRUE(f["linux"]["seccomp"]["enabled"].get<bool>());
  EXPECT_NE(std::find(f["linux"]["namespaces"].begin(), f["linux"]["namespaces"].end(), "pid"),
            f["linux"]["namespaces"].end());
}

// The verbs' argument parsing, through a CLI11 app built as main.cc builds it.
class VerbParseTest : public ::testing::Test {
 protected:
  VerbParseTest() : app_("hull") {
    app_.require_subcommand(1);
    global_ = AddGlobalOptions(app_);
    verbs_ = {AddCreateVerb(app_, global_), AddStartVerb(app_, global_), AddStateVerb(app_, global_),
              AddKillVerb(app_, global_),   AddDeleteVerb(app_, global_), AddExecVerb(app_, global_),
              AddListVerb(app_, global_),   AddPsVerb(app_, global_),
              AddEventsVerb(app_, global_), AddRunVerb(app_, global_)};
  }
  // Parses and, when parsing worked, runs the chosen verb.
  int Run(std::vector<std::string> args) {
    std::reverse(args.begin(), args.end());
    try {
      app_.parse(args);
    } catch (const CLI::ParseError&) {
      return kExitUsage;
    }
    for (const auto& v : verbs_) {
      if (v.command->parsed()) return v.run();
    }
    return -1;
  }
  CLI::App app_;
  std::shared_ptr<GlobalOptions> global_;
  std::vector<Verb> verbs_;
};

TEST_F(VerbParseTest, MissingIdIsAUsageError) {
  EXPECT_EQ(Run({"start"}), kExitUsage);
  EXPECT_EQ(Run({"state"}), kExitUsage);
}

TEST_F(VerbParseTest, RuncFlagsAreAccepted) {
  char tmpl[] = "/tmp/hull-root-test.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  // Unknown ids fail as runc does (exit 1), after the flags parsed.
  EXPECT_EQ(Run({"--root", tmpl, "--systemd-cgroup", "--log-format", "json", "state", "nope"}), 1);
  EXPECT_EQ(global_->root, tmpl);
  fs::remove_all(tmpl);
}

TEST_F(VerbParseTest, UnknownContainerFailsWithExit1AndNothingCreated) {
  char tmpl[] = "/tmp/hull-root-test.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string root = tmpl;
  for (const auto& verb : {"start", "state", "kill", "delete", "ps", "events"}) {
    EXPECT_EQ(Run({"--root", root, verb, "nope"}), 1) << verb;
    app_.clear();
  }
  EXPECT_EQ(Run({"--root", root, "delete", "--force", "nope"}), 0);  // runc: --force tolerates it
  app_.clear();
  EXPECT_EQ(Run({"--root", root, "kill", "nope", "NOSIG"}), 1);
  app_.clear();
  EXPECT_EQ(Run({"--root", root, "create", "--bundle", "/no/such/bundle", "c1"}), 1);
  app_.clear();
  EXPECT_EQ(Run({"--root", root, "create", "--preserve-fds", "2", "c1"}), 1);
  EXPECT_TRUE(fs::is_empty(root)) << "a failed verb left state behind";
  fs::remove_all(root);
}

TEST_F(VerbParseTest, RunDetachTakesCreatesFlagsAndLeavesNothingOnFailure) {
  char tmpl[] = "/tmp/hull-root-test.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string root = tmpl;
  // --pid-file and --console-socket belong to a detached run, as with runc.
  EXPECT_EQ(Run({"--root", root, "run", "--pid-file", root + "/p", "c1"}), kExitUsage);
  app_.clear();
  EXPECT_EQ(Run({"--root", root, "run", "--console-socket", root + "/s", "c1"}), kExitUsage);
  app_.clear();
  EXPECT_EQ(Run({"--root", root, "run", "-d", "--bundle", "/no/such/bundle", "--pid-file",
                 root + "/p", "c1"}),
            1);
  app_.clear();
  EXPECT_EQ(Run({"--root", root, "run", "--detach", "--preserve-fds", "1", "c1"}), 1);
  app_.clear();
  // Last: CLI11's clear() does not reset the flags' variables.
  EXPECT_EQ(Run({"--root", root, "run", "-d", "--keep-state", "c1"}), kExitUsage);
  EXPECT_TRUE(fs::is_empty(root)) << "a failed run -d left state or a pid file behind";
  fs::remove_all(root);
}

TEST(PodGuestNetworkTest, NoNetworkNamespacePathMeansNoNic) {
  const auto factory = PodGuestNetworkFactory();
  EXPECT_EQ(factory(R"({"linux":{"namespaces":[{"type":"network"},{"type":"pid"}]}})", ""), nullptr);
  EXPECT_EQ(factory(R"({"process":{}})", ""), nullptr);
}

TEST(PodGuestNetworkTest, MissingNamespaceIsAClearError) {
  const auto factory = PodGuestNetworkFactory();
  try {
    factory(R"({"linux":{"namespaces":[{"type":"network","path":"/no/such/netns"}]}})", "");
    FAIL() << "a namespace path that does not exist must be refused";
  } catch (const shim::SandboxError& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such/netns"), std::string::npos) << e.what();
  }
}

TEST_F(VerbParseTest, ExecTakesTheCommandAfterTheId) {
  char tmpl[] = "/tmp/hull-root-test.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  // `-c` after the command belongs to the command, not to exec's --cap.
  EXPECT_EQ(Run({"--root", tmpl, "exec", "nope", "sh", "-c", "echo hi"}), 1);
  fs::remove_all(tmpl);
}

}  // namespace
}  // namespace hull::cli
