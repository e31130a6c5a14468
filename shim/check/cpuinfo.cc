#include "check/cpuinfo.h"

#include <sstream>

namespace hull::check {
namespace {

std::string_view Trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

}  // namespace

std::set<std::string> ParseCpuFlags(std::string_view cpuinfo) {
  std::set<std::string> flags;
  while (!cpuinfo.empty()) {
    const auto eol = cpuinfo.find('\n');
    const std::string_view line = cpuinfo.substr(0, eol);
    cpuinfo = eol == std::string_view::npos ? std::string_view{} : cpuinfo.substr(eol + 1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = Trim(line.substr(0, colon));
    if (key != "flags" && key != "Features") continue;
    std::istringstream words{std::string(line.substr(colon + 1))};
    for (std::string word; words >> word;) flags.insert(word);
    break;  // every processor lists the same flags; the first line is enough
  }
  return flags;
}

}  // namespace hull::check
