// hull-vmm's VM configuration from JSON (vmm/config: the --config-file
// parser, whose section parsers the API endpoints share). Invariants: a
// config that parses survives GET /vm/config's ToJson and parses back to
// the same JSON (what the API reports is a valid config file), and errors
// are ConfigError only (never a stray nlohmann or std exception).
#include <cstdint>
#include <string>

#include "config/vm_config.h"
#include "fuzz_check.h"

using namespace hull::vmm::config;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  VmConfig config;
  try {
    config = ParseVmConfigFile(text);
  } catch (const ConfigError&) {
    return 0;
  }
  const nlohmann::json first = ToJson(config);
  nlohmann::json second;
  try {
    second = ToJson(ParseVmConfigFile(first.dump()));
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "ToJson output does not parse: %s\n%s\n", e.what(), first.dump().c_str());
    __builtin_trap();
  }
  HULL_FUZZ_CHECK(first == second, "config changed in a ToJson/parse round trip");
  return 0;
}
