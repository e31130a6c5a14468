#include "boot_timeline.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>

namespace hull::agent {
namespace {

// Kernel messages that open or close a phase of the boot.
constexpr std::array<std::string_view, 10> kPhaseMarks = {
    "Linux version",       "Memory:",          "clocksource:",         "Trying to unpack",
    "Unpacking initramfs", "Freeing initrd",   "Freeing unused kernel", "Run /init",
    "crng init done",      "virtio_mmio: probe"};

std::optional<long> initcall_micros(std::string_view text) {
  // "initcall NAME+0x0/0x20 returned 0 after 12345 usecs"
  if (text.rfind("initcall ", 0) != 0) return std::nullopt;
  const auto after = text.find(" after ");
  if (after == std::string_view::npos) return std::nullopt;
  long micros = 0;
  const char* begin = text.data() + after + 7;
  const auto [end, ec] = std::from_chars(begin, text.data() + text.size(), micros);
  if (ec != std::errc() || std::string_view(end, text.data() + text.size() - end) != " usecs")
    return std::nullopt;
  return micros;
}

}  // namespace

std::optional<std::string> boot_timeline_entry(std::string_view record) {
  const auto semicolon = record.find(';');
  if (semicolon == std::string_view::npos) return std::nullopt;
  const std::string_view prefix = record.substr(0, semicolon);
  std::string_view text = record.substr(semicolon + 1);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  // The prefix's third field is the timestamp in microseconds.
  const auto first = prefix.find(',');
  const auto second = first == std::string_view::npos ? first : prefix.find(',', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  long long micros = 0;
  const char* begin = prefix.data() + second + 1;
  if (std::from_chars(begin, prefix.data() + prefix.size(), micros).ec != std::errc())
    return std::nullopt;

  bool wanted = false;
  if (auto took = initcall_micros(text)) {
    wanted = *took >= kSlowInitcallMicros;
  } else {
    for (auto mark : kPhaseMarks) wanted |= text.find(mark) != std::string_view::npos;
  }
  if (!wanted) return std::nullopt;
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "[%9lld.%03lld ms] ", micros / 1000, micros % 1000);
  return stamp + std::string(text);
}

void print_boot_timeline(std::FILE* out) {
  const int fd = ::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    std::fprintf(out, "hull-agent: boot timeline: cannot open /dev/kmsg\n");
    return;
  }
  char record[8192];
  for (;;) {
    const ssize_t n = ::read(fd, record, sizeof record);
    if (n < 0 && errno == EPIPE) continue;  // overwritten records: go on with the next
    if (n <= 0) break;                      // EAGAIN: the log is read out
    if (auto line = boot_timeline_entry(std::string_view(record, static_cast<size_t>(n))))
      std::fprintf(out, "hull-agent: boot timeline: %s\n", line->c_str());
  }
  ::close(fd);
}

}  // namespace hull::agent
