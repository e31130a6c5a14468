// A bounded in-memory ring of the agent's log lines, so the host can read
// what PID 1 wrote to the console (ReadAgentLog). Capped by line count and
// by bytes; the oldest lines go first and are counted. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace hull::service {

class LogRing {
 public:
  struct Line {
    uint64_t sequence;     // 1, 2, 3, ... in the order appended
    int64_t unix_time_ms;  // when it was appended
    std::string text;
  };
  struct Slice {
    std::vector<Line> lines;
    uint64_t next_sequence;  // the cursor to read on from
    uint64_t missed;         // lines from the requested start already dropped
    uint64_t dropped_total;  // lines dropped since construction
  };

  static constexpr size_t kDefaultMaxLines = 2000;
  static constexpr size_t kDefaultMaxBytes = 256 * 1024;
  // A longer line is cut to this many bytes (and marked) so one runaway
  // message cannot empty the ring.
  static constexpr size_t kMaxLineBytes = 4096;

  explicit LogRing(size_t max_lines = kDefaultMaxLines, size_t max_bytes = kDefaultMaxBytes);

  // Appends one line (without its newline); drops the oldest beyond the caps.
  void Append(std::string_view text);
  // Lines with sequence >= since (all kept ones for since 0), oldest first,
  // at most max_lines of them (0: no limit).
  Slice Since(uint64_t since, size_t max_lines = 0) const;

 private:
  void DropOldest();

  const size_t max_lines_, max_bytes_;
  mutable std::mutex mutex_;
  std::deque<Line> lines_;
  size_t bytes_ = 0;
  uint64_t next_sequence_ = 1;
  uint64_t dropped_total_ = 0;
};

// Splits a byte stream written in arbitrary pieces into lines for a LogRing.
// Not thread-safe: the caller serializes writes.
class LineSplitter {
 public:
  explicit LineSplitter(LogRing& ring) : ring_(ring) {}
  void Write(std::string_view bytes);

 private:
  void Keep(std::string_view piece);

  LogRing& ring_;
  std::string partial_;
};

}  // namespace hull::service
