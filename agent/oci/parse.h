// Parses and validates OCI runtime-spec JSON into hull::oci types. Every error
// names the offending field, e.g. "process.args: must be a non-empty array".
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "oci/spec.h"

namespace hull::oci {

class SpecError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A whole config.json.
Spec parse_spec(std::string_view json_text);
// An OCI "process" object (ExecProcess).
Process parse_process(std::string_view json_text);
// An OCI "linux.resources" object (UpdateContainer).
Resources parse_resources(std::string_view json_text);

}  // namespace hull::oci
