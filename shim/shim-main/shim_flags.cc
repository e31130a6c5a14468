#include "shim-main/shim_flags.h"

#include <map>

namespace hull::shim_main {

ShimFlags ParseShimFlags(const std::vector<std::string>& args) {
  ShimFlags flags;
  const std::map<std::string, std::string*> strings = {
      {"namespace", &flags.namespace_}, {"id", &flags.id},         {"address", &flags.address},
      {"publish-binary", &flags.publish_binary}, {"bundle", &flags.bundle}, {"socket", &flags.socket}};
  const std::map<std::string, bool*> bools = {{"debug", &flags.debug}, {"v", &flags.version}};

  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') break;  // the action
    if (arg == "--") {
      ++i;
      break;
    }
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    if (auto b = bools.find(name); b != bools.end()) {
      if (!has_value || value == "true" || value == "1") {
        *b->second = true;
      } else if (value == "false" || value == "0") {
        *b->second = false;
      } else {
        throw ShimUsageError("invalid boolean value '" + value + "' for flag -" + name);
      }
      continue;
    }
    auto s = strings.find(name);
    if (s == strings.end()) throw ShimUsageError("flag provided but not defined: -" + name);
    if (!has_value) {
      if (i + 1 >= args.size()) throw ShimUsageError("flag needs an argument: -" + name);
      value = args[++i];
    }
    *s->second = value;
  }
  if (i < args.size()) flags.action = args[i++];
  if (i < args.size()) throw ShimUsageError("unexpected argument '" + args[i] + "' after action '" + flags.action + "'");
  return flags;
}

}  // namespace hull::shim_main
