// The pod's memory plan: how much of the booted VM the guest keeps and how
// much the balloon hands back, from the containers' limits.
#include <gtest/gtest.h>

#include "vm_sandbox/pod_memory.h"

namespace hull::vm_sandbox {
namespace {

constexpr uint64_t kMib = uint64_t{1} << 20;

ContainerMemory Limited(uint64_t bytes) {
  return {false, bytes};
}
ContainerMemory Pause() {
  return {true, std::nullopt};
}
ContainerMemory Unlimited() {
  return {false, std::nullopt};
}

TEST(PodMemoryPlan, LimitsPlusOverheadAreKeptAndTheRestIsBallooned) {
  const PodMemoryPlan plan = PlanPodMemory(
      512, {{"pause", Pause()}, {"a", Limited(100 * kMib)}, {"b", Limited(50 * kMib)}});
  EXPECT_TRUE(plan.bounded);
  EXPECT_EQ(plan.target_mib, kGuestOverheadMib + 150);
  EXPECT_EQ(plan.balloon_mib, 512 - kGuestOverheadMib - 150);
}

TEST(PodMemoryPlan, LimitsRoundUpToWholeMib) {
  const PodMemoryPlan plan = PlanPodMemory(256, {{"a", Limited(10 * kMib + 1)}});
  EXPECT_EQ(plan.target_mib, kGuestOverheadMib + 11);
  EXPECT_EQ(plan.balloon_mib, 256 - kGuestOverheadMib - 11);
}

TEST(PodMemoryPlan, AnUnlimitedContainerKeepsTheWholeVm) {
  const PodMemoryPlan plan = PlanPodMemory(256, {{"a", Limited(10 * kMib)}, {"b", Unlimited()}});
  EXPECT_FALSE(plan.bounded);
  EXPECT_EQ(plan.target_mib, 256u);
  EXPECT_EQ(plan.balloon_mib, 0u);
}

TEST(PodMemoryPlan, APodWithOnlyItsPauseContainerKeepsTheWholeVm) {
  EXPECT_EQ(PlanPodMemory(128, {{"pause", Pause()}}).balloon_mib, 0u);
  EXPECT_EQ(PlanPodMemory(128, {}).balloon_mib, 0u);
}

TEST(PodMemoryPlan, APauseContainerWithALimitCounts) {
  const PodMemoryPlan plan =
      PlanPodMemory(256, {{"pause", {true, 20 * kMib}}, {"a", Limited(30 * kMib)}});
  EXPECT_EQ(plan.target_mib, kGuestOverheadMib + 50);
}

TEST(PodMemoryPlan, ExactlyTheBootMemoryFits) {
  const PodMemoryPlan plan = PlanPodMemory(128, {{"a", Limited((128 - kGuestOverheadMib) * kMib)}});
  EXPECT_EQ(plan.target_mib, 128u);
  EXPECT_EQ(plan.balloon_mib, 0u);
  EXPECT_TRUE(plan.bounded);
}

TEST(PodMemoryPlan, MoreThanTheBootMemoryNamesItAndHowToRaiseIt) {
  try {
    PlanPodMemory(128, {{"a", Limited(512 * kMib)}});
    FAIL() << "a 512 MiB limit fit a 128 MiB VM";
  } catch (const PodMemoryError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("booted with 128 MiB"), std::string::npos) << message;
    EXPECT_NE(message.find(std::string(kVmMemoryAnnotation) + "=\"" +
                           std::to_string(512 + kGuestOverheadMib) + "\""),
              std::string::npos)
        << message;
  }
}

TEST(PodMemoryPlan, HugeLimitsDoNotWrapAround) {
  EXPECT_THROW(PlanPodMemory(128, {{"a", Limited(UINT64_MAX)}, {"b", Limited(UINT64_MAX / 2)}}),
               PodMemoryError);
}

TEST(MemoryLimitOf, ReadsTheOciLimit) {
  EXPECT_EQ(MemoryLimitOf(nlohmann::json::parse(R"({"memory": {"limit": 33554432}})")), 32 * kMib);
}

TEST(MemoryLimitOf, NoneMinusOneAndZeroMeanUnlimited) {
  EXPECT_EQ(MemoryLimitOf(nlohmann::json::parse(R"({"cpu": {"shares": 2}})")), std::nullopt);
  EXPECT_EQ(MemoryLimitOf(nlohmann::json::parse(R"({"memory": {"limit": -1}})")), std::nullopt);
  EXPECT_EQ(MemoryLimitOf(nlohmann::json::parse(R"({"memory": {"limit": 0}})")), std::nullopt);
  EXPECT_EQ(MemoryLimitOf(nlohmann::json()), std::nullopt);
}

TEST(MemoryLimitOf, ANonIntegerLimitIsRefused) {
  EXPECT_THROW(MemoryLimitOf(nlohmann::json::parse(R"({"memory": {"limit": "1G"}})")),
               PodMemoryError);
  EXPECT_THROW(MemoryLimitOf(nlohmann::json::parse(R"({"memory": {"limit": 1.5}})")),
               PodMemoryError);
}

TEST(BootMemoryMib, TheAnnotationOverridesTheDefault) {
  const auto spec = nlohmann::json::parse(R"({"annotations": {"io.hull.vm.memory_mib": "512"}})");
  EXPECT_EQ(BootMemoryMib(spec, 128), 512u);
  EXPECT_EQ(BootMemoryMib(nlohmann::json::parse(R"({"annotations": {}})"), 128), 128u);
  EXPECT_EQ(BootMemoryMib(nlohmann::json::parse(R"({})"), 128), 128u);
}

TEST(BootMemoryMib, BadValuesAreRefusedWithTheAnnotationsName) {
  for (const char* bad : {"\"abc\"", "\"12\"", "\"512M\"", "\"-5\"", "\"99999999\"", "\"\""}) {
    const auto spec = nlohmann::json::parse(
        std::string(R"({"annotations": {"io.hull.vm.memory_mib": )") + bad + "}}");
    try {
      BootMemoryMib(spec, 128);
      FAIL() << bad << " was accepted";
    } catch (const PodMemoryError& e) {
      EXPECT_NE(std::string(e.what()).find(kVmMemoryAnnotation), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace hull::vm_sandbox
