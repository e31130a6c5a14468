// The agent's log ring (ReadAgentLog): caps, dropping and counting, the
// since-sequence cursor, line splitting, and the stderr tee.
#include "service/log_ring.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "service/stderr_tee.h"

namespace hull::service {
namespace {

std::vector<std::string> Texts(const LogRing::Slice& s) {
  std::vector<std::string> out;
  for (const auto& l : s.lines) out.push_back(l.text);
  return out;
}

TEST(LogRingTest, KeepsLinesInOrderWithSequenceNumbers) {
  LogRing ring(10);
  ring.Append("one");
  ring.Append("two");
  LogRing::Slice s = ring.Since(0);
  ASSERT_EQ(s.lines.size(), 2u);
  EXPECT_EQ(s.lines[0].sequence, 1u);
  EXPECT_EQ(s.lines[1].sequence, 2u);
  EXPECT_EQ(Texts(s), (std::vector<std::string>{"one", "two"}));
  EXPECT_GT(s.lines[0].unix_time_ms, 1'600'000'000'000);
  EXPECT_EQ(s.next_sequence, 3u);
  EXPECT_EQ(s.missed, 0u);
  EXPECT_EQ(s.dropped_total, 0u);
}

TEST(LogRingTest, DropsTheOldestBeyondTheLineCapAndCountsThem) {
  LogRing ring(3);
  for (int i = 1; i <= 5; ++i) ring.Append("line " + std::to_string(i));
  LogRing::Slice s = ring.Since(0);
  EXPECT_EQ(Texts(s), (std::vector<std::string>{"line 3", "line 4", "line 5"}));
  EXPECT_EQ(s.dropped_total, 2u);
  EXPECT_EQ(s.missed, 0u);  // 0 means "from the oldest kept"
  // A cursor into the dropped part reports what it missed.
  LogRing::Slice from1 = ring.Since(1);
  EXPECT_EQ(from1.missed, 2u);
  EXPECT_EQ(from1.lines.front().sequence, 3u);
}

TEST(LogRingTest, DropsTheOldestBeyondTheByteCap) {
  LogRing ring(1000, LogRing::kMaxLineBytes);  // the smallest byte cap allowed
  const std::string kilo(1024, 'x');
  for (int i = 0; i < 6; ++i) ring.Append(kilo);
  LogRing::Slice s = ring.Since(0);
  EXPECT_EQ(s.lines.size(), 4u);
  EXPECT_EQ(s.dropped_total, 2u);
  EXPECT_EQ(s.lines.front().sequence, 3u);
}

TEST(LogRingTest, CutsARunawayLine) {
  LogRing ring;
  ring.Append(std::string(3 * LogRing::kMaxLineBytes, 'y'));
  const std::string text = ring.Since(0).lines.at(0).text;  // a copy: the Slice is a temporary
  EXPECT_EQ(text.size(), LogRing::kMaxLineBytes + 6);
  EXPECT_TRUE(text.ends_with(" [cut]"));
}

TEST(LogRingTest, CursorReadsOnWithoutRepeatsAndHonoursMaxLines) {
  LogRing ring;
  for (int i = 1; i <= 5; ++i) ring.Append(std::to_string(i));
  LogRing::Slice first = ring.Since(0, 2);
  EXPECT_EQ(Texts(first), (std::vector<std::string>{"1", "2"}));
  LogRing::Slice second = ring.Since(first.next_sequence, 2);
  EXPECT_EQ(Texts(second), (std::vector<std::string>{"3", "4"}));
  LogRing::Slice rest = ring.Since(second.next_sequence);
  EXPECT_EQ(Texts(rest), (std::vector<std::string>{"5"}));
  LogRing::Slice none = ring.Since(rest.next_sequence);
  EXPECT_TRUE(none.lines.empty());
  EXPECT_EQ(none.next_sequence, rest.next_sequence);
  ring.Append("6");
  EXPECT_EQ(Texts(ring.Since(none.next_sequence)), (std::vector<std::string>{"6"}));
  // A cursor from the future (an agent that restarted) gives nothing, no error.
  EXPECT_TRUE(ring.Since(1000).lines.empty());
}

TEST(LineSplitterTest, JoinsPiecesAndSplitsAtNewlines) {
  LogRing ring;
  LineSplitter split(ring);
  split.Write("hull-agent: hel");
  split.Write("lo\nsecond");
  EXPECT_EQ(Texts(ring.Since(0)), (std::vector<std::string>{"hull-agent: hello"}));
  split.Write(" line\nthird\n\n");
  EXPECT_EQ(Texts(ring.Since(0)), (std::vector<std::string>{"hull-agent: hello", "second line", "third", ""}));
}

TEST(LineSplitterTest, AnEndlessLineIsKeptBoundedAndCut) {
  LogRing ring;
  LineSplitter split(ring);
  const std::string chunk(1000, 'z');
  for (int i = 0; i < 100; ++i) split.Write(chunk);
  split.Write("\n");
  const std::string text = ring.Since(0).lines.at(0).text;  // a copy: the Slice is a temporary
  EXPECT_TRUE(text.ends_with(" [cut]"));
  EXPECT_LE(text.size(), LogRing::kMaxLineBytes + 6);
}

TEST(StderrTeeTest, StdioStderrGoesToTheRingAndStillToFd2) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const int saved = ::dup(STDERR_FILENO);
  ASSERT_GE(::dup2(pipe_fds[1], STDERR_FILENO), 0);
  LogRing ring;
  {
    StderrTee tee(ring);
    std::fprintf(stderr, "hull-agent: %s %d\n", "ring check", 42);
    std::fputs("partial ", stderr);
    std::fputs("line\n", stderr);
  }
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(pipe_fds[1]);
  char buf[256] = {};
  const ssize_t n = ::read(pipe_fds[0], buf, sizeof buf - 1);
  ::close(pipe_fds[0]);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "hull-agent: ring check 42\npartial line\n");
  EXPECT_EQ(Texts(ring.Since(0)), (std::vector<std::string>{"hull-agent: ring check 42", "partial line"}));
}

}  // namespace
}  // namespace hull::service
