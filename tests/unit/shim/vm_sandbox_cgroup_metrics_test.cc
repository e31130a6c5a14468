#include <gtest/gtest.h>

#include <limits>

#include "vm_sandbox/cgroup_metrics.h"

namespace hull::vm_sandbox {
namespace {

namespace agentpb = ::hull::agent::v1;
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

agentpb::StatsContainerResponse SampleStats() {
  agentpb::StatsContainerResponse s;
  s.mutable_cpu()->set_usage_usec(1500);
  s.mutable_cpu()->set_user_usec(1000);
  s.mutable_cpu()->set_system_usec(500);
  s.mutable_cpu()->set_nr_periods(7);
  s.mutable_cpu()->set_nr_throttled(2);
  s.mutable_cpu()->set_throttled_usec(300);
  s.mutable_memory()->set_usage_bytes(4 << 20);
  s.mutable_memory()->set_limit_bytes(64 << 20);
  s.mutable_memory()->set_swap_usage_bytes(4096);
  s.mutable_memory()->set_oom_kills(3);
  s.mutable_memory()->set_swap_limit_bytes(1 << 20);
  auto* events = s.mutable_memory()->mutable_events();
  events->set_low(1);
  events->set_high(2);
  events->set_max(4);
  events->set_oom(5);
  events->set_oom_kill(3);
  auto& stat = *s.mutable_memory()->mutable_stat();
  stat["anon"] = 1000;
  stat["file"] = 2000;
  stat["pgfault"] = 42;
  stat["thp_collapse_alloc"] = 5;
  stat["workingset_refault_anon"] = 10;
  stat["workingset_refault_file"] = 20;
  stat["unknown_future_key"] = 99;
  s.mutable_pids()->set_current(2);
  s.mutable_pids()->set_limit(100);
  auto* io = s.add_io();
  io->set_major(254);
  io->set_minor(0);
  io->set_read_bytes(8192);
  io->set_write_bytes(512);
  io->set_read_ios(4);
  io->set_write_ios(1);
  return s;
}

TEST(CgroupMetricsTest, CpuPidsAndMemoryCountersCarryOver) {
  const cgroupsv2::Metrics m = ToCgroupsV2Metrics(SampleStats());
  EXPECT_EQ(m.cpu().usage_usec(), 1500u);
  EXPECT_EQ(m.cpu().user_usec(), 1000u);
  EXPECT_EQ(m.cpu().system_usec(), 500u);
  EXPECT_EQ(m.cpu().nr_periods(), 7u);
  EXPECT_EQ(m.cpu().nr_throttled(), 2u);
  EXPECT_EQ(m.cpu().throttled_usec(), 300u);
  EXPECT_EQ(m.pids().current(), 2u);
  EXPECT_EQ(m.pids().limit(), 100u);
  EXPECT_EQ(m.memory().usage(), 4u << 20);
  EXPECT_EQ(m.memory().usage_limit(), 64u << 20);
  EXPECT_EQ(m.memory().swap_usage(), 4096u);
  EXPECT_EQ(m.memory().anon(), 1000u);
  EXPECT_EQ(m.memory().file(), 2000u);
  EXPECT_EQ(m.memory().pgfault(), 42u);
  EXPECT_EQ(m.memory().thp_collapse_alloc(), 5u);
  EXPECT_EQ(m.memory().kernel_stack(), 0u);  // not in memory.stat: zero
  EXPECT_EQ(m.memory_events().oom_kill(), 3u);
  EXPECT_EQ(m.memory().swap_limit(), 1u << 20);
  EXPECT_EQ(m.memory_events().low(), 1u);
  EXPECT_EQ(m.memory_events().high(), 2u);
  EXPECT_EQ(m.memory_events().max(), 4u);
  EXPECT_EQ(m.memory_events().oom(), 5u);
}

TEST(CgroupMetricsTest, UnlimitedSwapAndAnAgentWithoutEvents) {
  auto s = SampleStats();
  s.mutable_memory()->set_swap_limit_bytes(0);
  s.mutable_memory()->clear_events();  // an older agent: only oom_kills
  const cgroupsv2::Metrics m = ToCgroupsV2Metrics(s);
  EXPECT_EQ(m.memory().swap_limit(), kMax);
  EXPECT_EQ(m.memory_events().oom_kill(), 3u);
  EXPECT_EQ(m.memory_events().oom(), 0u);
}

TEST(CgroupMetricsTest, SplitWorkingsetCountersAreSummed) {
  EXPECT_EQ(ToCgroupsV2Metrics(SampleStats()).memory().workingset_refault(), 30u);
  auto s = SampleStats();
  (*s.mutable_memory()->mutable_stat())["workingset_refault"] =
      7;  // an older kernel's single counter wins
  EXPECT_EQ(ToCgroupsV2Metrics(s).memory().workingset_refault(), 7u);
}

TEST(CgroupMetricsTest, UnlimitedIsMaxAsContainerdReadsIt) {
  auto s = SampleStats();
  s.mutable_memory()->set_limit_bytes(0);
  s.mutable_pids()->set_limit(0);
  const cgroupsv2::Metrics m = ToCgroupsV2Metrics(s);
  EXPECT_EQ(m.memory().usage_limit(), kMax);
  EXPECT_EQ(m.pids().limit(), kMax);
}

TEST(CgroupMetricsTest, IoDevicesBecomeUsageEntries) {
  auto s = SampleStats();
  auto* second = s.add_io();
  second->set_major(8);
  second->set_minor(16);
  const cgroupsv2::Metrics m = ToCgroupsV2Metrics(s);
  ASSERT_EQ(m.io().usage_size(), 2);
  EXPECT_EQ(m.io().usage(0).major(), 254u);
  EXPECT_EQ(m.io().usage(0).rbytes(), 8192u);
  EXPECT_EQ(m.io().usage(0).wbytes(), 512u);
  EXPECT_EQ(m.io().usage(0).rios(), 4u);
  EXPECT_EQ(m.io().usage(0).wios(), 1u);
  EXPECT_EQ(m.io().usage(1).minor(), 16u);
}

TEST(CgroupMetricsTest, EmptyStatsGiveZerosNotGarbage) {
  const cgroupsv2::Metrics m = ToCgroupsV2Metrics({});
  EXPECT_EQ(m.cpu().usage_usec(), 0u);
  EXPECT_EQ(m.memory().usage(), 0u);
  EXPECT_EQ(m.io().usage_size(), 0);
  EXPECT_TRUE(m.has_pids());
  EXPECT_TRUE(m.has_memory());
}

TEST(CgroupMetricsTest, PackedAsContainerdsTypeUrlAndRoundTrips) {
  const cgroupsv2::Metrics m = ToCgroupsV2Metrics(SampleStats());
  const google::protobuf::Any any = PackCgroupsV2Metrics(m);
  // containerd's typeurl names gogo messages by their bare proto name.
  EXPECT_EQ(any.type_url(), "io.containerd.cgroups.v2.Metrics");
  cgroupsv2::Metrics back;
  ASSERT_TRUE(back.ParseFromString(any.value()));
  EXPECT_EQ(back.cpu().usage_usec(), 1500u);
  EXPECT_EQ(back.memory().usage(), 4u << 20);
  EXPECT_EQ(back.pids().current(), 2u);
}

}  // namespace
}  // namespace hull::vm_sandbox
