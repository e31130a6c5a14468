// Parser for Kconfig files (.config and config fragments) used by the guest
// kernel tests: "CONFIG_X=value" sets, "# CONFIG_X is not set" unsets, other
// "#" lines are comments, anything else is an error naming the line.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace hull::guest_test {

// nullopt means "is not set".
using KconfigOptions = std::map<std::string, std::optional<std::string>>;

struct KconfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// `origin` names the text in error messages (usually the file path).
KconfigOptions ParseKconfig(const std::string& text, const std::string& origin);
KconfigOptions LoadKconfig(const std::string& path);

// What an option is in `options`: its value, or nullopt when absent or unset
// (Kconfig treats both as "n").
std::optional<std::string> Lookup(const KconfigOptions& options, const std::string& name);

}  // namespace hull::guest_test
