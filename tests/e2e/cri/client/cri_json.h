// JSON in, JSON out: CRI messages read from and printed as the protobuf JSON
// mapping (field names as in api.proto, e.g. "metadata": {"name": ...}), the
// shape crictl's config files have.
#pragma once

#include <google/protobuf/message.h>

#include <nlohmann/json.hpp>
#include <string>

#include "runtime/v1/api.pb.h"

namespace hull::cri {

// Fills `message` from `json_text`; throws CriError naming `what` (a file
// name, say) and the parser's complaint, e.g. an unknown field.
void ParseMessage(const std::string& json_text, const std::string& what, google::protobuf::Message& message);

// The message as JSON with api.proto's field names; default values included so
// that a test can read "state" or "exit_code" even when it is 0.
nlohmann::json ToJson(const google::protobuf::Message& message);

// ExecSync's answer with stdout/stderr as text (the JSON mapping would give
// base64 for bytes); invalid UTF-8 is replaced, never an error.
nlohmann::json ExecSyncResultJson(const runtime::v1::ExecSyncResponse& response);

// Reads a whole file ("-" is stdin); throws CriError when it cannot.
std::string ReadInput(const std::string& path);

}  // namespace hull::cri
