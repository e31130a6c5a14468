// hull-cri's JSON in and out: CRI messages from crictl-style JSON configs.
#include <gtest/gtest.h>

#include "cri_error.h"
#include "cri_json.h"
#include "cri_runtime.h"

namespace hull::cri {
namespace {

TEST(CriJson, ReadsAPodConfigWithApiProtoFieldNames) {
  runtime::v1::PodSandboxConfig config;
  ParseMessage(R"({"metadata": {"name": "a", "namespace": "e2e", "uid": "u1"}, "hostname": "a",
                   "dns_config": {"servers": ["10.0.0.53"]}, "labels": {"app": "a"}})",
               "pod.json", config);
  EXPECT_EQ(config.metadata().name(), "a");
  EXPECT_EQ(config.hostname(), "a");
  ASSERT_EQ(config.dns_config().servers_size(), 1);
  EXPECT_EQ(config.dns_config().servers(0), "10.0.0.53");
  EXPECT_EQ(config.labels().at("app"), "a");
}

TEST(CriJson, AnUnknownFieldIsAnErrorNamingFileAndField) {
  runtime::v1::PodSandboxConfig config;
  try {
    ParseMessage(R"({"hostnme": "typo"})", "pod.json", config);
    FAIL() << "accepted an unknown field";
  } catch (const CriError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("pod.json"), std::string::npos) << what;
    EXPECT_NE(what.find("hostnme"), std::string::npos) << what;
  }
  EXPECT_THROW(ParseMessage("not json", "c.json", config), CriError);
}

TEST(CriJson, PrintsProtoNamesAndDefaults) {
  runtime::v1::ContainerStatusResponse response;
  response.mutable_status()->set_id("c1");
  const nlohmann::json j = ToJson(response);
  EXPECT_EQ(j["status"]["id"], "c1");
  EXPECT_EQ(j["status"]["state"], "CONTAINER_CREATED");  // the zero value is printed
  EXPECT_TRUE(j["status"].contains("exit_code"));
}

TEST(CriJson, ExecOutputIsTextEvenWhenNotUtf8) {
  runtime::v1::ExecSyncResponse response;
  response.set_stdout("hello\n");
  response.set_stderr(std::string("\xff\xfe", 2));
  response.set_exit_code(3);
  const nlohmann::json j = ExecSyncResultJson(response);
  EXPECT_EQ(j["stdout"], "hello\n");
  EXPECT_EQ(j["exit_code"], 3);
  EXPECT_NO_THROW((void)j.dump());
}

TEST(CriJson, EndpointsBecomeGrpcTargets) {
  EXPECT_EQ(GrpcTarget("/run/containerd/containerd.sock"), "unix:///run/containerd/containerd.sock");
  EXPECT_EQ(GrpcTarget("unix:///x.sock"), "unix:///x.sock");
  EXPECT_THROW(GrpcTarget("relative.sock"), CriError);
}

TEST(CriJson, ReadInputNamesAMissingFile) {
  try {
    ReadInput("/nonexistent/pod.json");
    FAIL();
  } catch (const CriError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/pod.json"), std::string::npos);
  }
}

}  // namespace
}  // namespace hull::cri
