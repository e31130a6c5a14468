#include "service/log_ring.h"

#include <algorithm>
#include <chrono>

namespace hull::service {

LogRing::LogRing(size_t max_lines, size_t max_bytes)
    : max_lines_(std::max<size_t>(max_lines, 1)), max_bytes_(std::max(max_bytes, kMaxLineBytes)) {}

void LogRing::Append(std::string_view text) {
  std::string line(text.substr(0, kMaxLineBytes));
  if (text.size() > kMaxLineBytes) line += " [cut]";
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  std::lock_guard lock(mutex_);
  bytes_ += line.size();
  lines_.push_back(Line{next_sequence_++, now_ms, std::move(line)});
  while (lines_.size() > max_lines_ || (bytes_ > max_bytes_ && lines_.size() > 1)) DropOldest();
}

void LogRing::DropOldest() {
  bytes_ -= lines_.front().text.size();
  lines_.pop_front();
  ++dropped_total_;
}

LogRing::Slice LogRing::Since(uint64_t since, size_t max_lines) const {
  std::lock_guard lock(mutex_);
  Slice out{{}, next_sequence_, 0, dropped_total_};
  const uint64_t oldest = lines_.empty() ? next_sequence_ : lines_.front().sequence;
  const uint64_t start = std::max<uint64_t>({since, oldest, 1});
  if (since != 0 && since < oldest) out.missed = oldest - since;
  if (start >= next_sequence_) return out;
  for (auto it = lines_.begin() + static_cast<std::ptrdiff_t>(start - oldest); it != lines_.end(); ++it) {
    if (max_lines != 0 && out.lines.size() == max_lines) break;
    out.lines.push_back(*it);
  }
  if (!out.lines.empty()) out.next_sequence = out.lines.back().sequence + 1;
  return out;
}

void LineSplitter::Keep(std::string_view piece) {
  // One line's worth (plus a byte, so the ring marks it cut) is enough.
  const size_t room = LogRing::kMaxLineBytes + 1 - std::min(partial_.size(), LogRing::kMaxLineBytes + 1);
  partial_.append(piece.substr(0, room));
}

void LineSplitter::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    const size_t nl = bytes.find('\n');
    Keep(bytes.substr(0, nl));
    if (nl == std::string_view::npos) return;
    ring_.Append(partial_);
    partial_.clear();
    bytes.remove_prefix(nl + 1);
  }
}

}  // namespace hull::service
