// The agent's OCI runtime-spec parsing (agent/oci): config.json for
// CreateContainer, a "process" object for ExecProcess and "linux.resources"
// for UpdateContainer, all sent by the host. Errors must be SpecError only
// (naming the field); anything else escaping is a finding.
//
// Input: one selector byte (mod 3: spec, process, resources), then the JSON.
#include <cstdint>
#include <string_view>

#include "oci/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    switch (data[0] % 3) {
      case 0:
        (void)hull::oci::parse_spec(text);
        break;
      case 1:
        (void)hull::oci::parse_process(text);
        break;
      default:
        (void)hull::oci::parse_resources(text);
        break;
    }
  } catch (const hull::oci::SpecError&) {
  }
  return 0;
}
