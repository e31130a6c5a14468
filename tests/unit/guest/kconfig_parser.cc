#include "kconfig_parser.h"

#include <fstream>
#include <regex>
#include <sstream>

namespace hull::guest_test {

KconfigOptions ParseKconfig(const std::string& text, const std::string& origin) {
  static const std::regex set_re(R"(^(CONFIG_[A-Za-z0-9_]+)=(.*)$)");
  static const std::regex unset_re(R"(^# (CONFIG_[A-Za-z0-9_]+) is not set$)");
  KconfigOptions options;
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    std::smatch m;
    std::optional<std::string> value;
    if (std::regex_match(line, m, set_re)) {
      value = m[2].str();
    } else if (!std::regex_match(line, m, unset_re)) {
      if (line.front() == '#') continue;  // a comment
      throw KconfigError(origin + ":" + std::to_string(number) + ": not a Kconfig line: '" + line +
                         "'");
    }
    const std::string name = m[1].str();
    auto [it, inserted] = options.emplace(name, value);
    if (!inserted && it->second != value)
      throw KconfigError(origin + ":" + std::to_string(number) + ": " + name +
                         " is given twice with different values");
  }
  return options;
}

KconfigOptions LoadKconfig(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw KconfigError(path + ": cannot open");
  std::stringstream text;
  text << file.rdbuf();
  return ParseKconfig(text.str(), path);
}

std::optional<std::string> Lookup(const KconfigOptions& options, const std::string& name) {
  auto it = options.find(name);
  return it == options.end() ? std::nullopt : it->second;
}

}  // namespace hull::guest_test
