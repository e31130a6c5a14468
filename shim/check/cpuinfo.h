// Parsing of /proc/cpuinfo: the CPU feature flags of the first processor.
#pragma once

#include <set>
#include <string>
#include <string_view>

namespace hull::check {

// The words of the first "flags" (x86) or "Features" (arm64) line; empty when there is none.
std::set<std::string> ParseCpuFlags(std::string_view cpuinfo);

}  // namespace hull::check
