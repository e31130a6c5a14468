#include "check/render.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace hull::check {
namespace {

Report Sample() {
  return Report{Arch::kX86_64,
                false,
                {{"kvm.device", true, Status::kOk, "/dev/kvm is a character device", ""},
                 {"kvm.hardware", true, Status::kFail, "emulated", "use tools/nested-run"},
                 {"tap", false, Status::kSkipped, "not tried", ""}}};
}

TEST(CheckRender, TextHasOneLinePerCheckAndTheFixUnderFailures) {
  EXPECT_EQ(RenderText(Sample()),
            "ok   kvm.device: /dev/kvm is a character device\n"
            "FAIL kvm.hardware: emulated\n"
            "     -> use tools/nested-run\n"
            "skip tap: not tried [optional]\n"
            "KVM is NOT usable here for microVMs; run hull inside tools/nested-run (see the FAIL lines)\n");
}

TEST(CheckRender, TextVerdictWhenUsable) {
  Report r = Sample();
  r.kvm_usable = true;
  r.checks.clear();
  EXPECT_EQ(RenderText(r), "KVM is usable: hull can run microVMs directly on this x86_64 host\n");
}

TEST(CheckRender, JsonCarriesEveryField) {
  const auto j = nlohmann::json::parse(RenderJson(Sample()));
  EXPECT_EQ(j["arch"], "x86_64");
  EXPECT_EQ(j["kvm_usable"], false);
  ASSERT_EQ(j["checks"].size(), 3u);
  EXPECT_EQ(j["checks"][1]["id"], "kvm.hardware");
  EXPECT_EQ(j["checks"][1]["status"], "FAIL");
  EXPECT_EQ(j["checks"][1]["required"], true);
  EXPECT_EQ(j["checks"][1]["fix"], "use tools/nested-run");
  EXPECT_FALSE(j["checks"][0].contains("fix"));
  EXPECT_EQ(j["checks"][2]["status"], "skip");
}

}  // namespace
}  // namespace hull::check
