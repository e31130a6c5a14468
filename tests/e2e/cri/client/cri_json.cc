#include "cri_json.h"

#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <iostream>
#include <iterator>

#include "cri_error.h"

namespace hull::cri {

void ParseMessage(const std::string& json_text, const std::string& what, google::protobuf::Message& message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;  // a misspelt field is a mistake worth naming
  const auto status = google::protobuf::util::JsonStringToMessage(json_text, &message, options);
  if (!status.ok()) {
    throw CriError(what + ": not a valid " + message.GetDescriptor()->full_name() + " in JSON: " +
                   status.ToString());
  }
}

nlohmann::json ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  const auto status = google::protobuf::util::MessageToJsonString(message, &text, options);
  if (!status.ok()) {
    throw CriError("cannot print " + message.GetDescriptor()->full_name() + " as JSON: " +
                   status.ToString());
  }
  return nlohmann::json::parse(text);
}

nlohmann::json ExecSyncResultJson(const runtime::v1::ExecSyncResponse& response) {
  // Round-trip through dump() with replacement, so invalid UTF-8 never throws later.
  auto text = [](const std::string& bytes) {
    return nlohmann::json::parse(
        nlohmann::json(bytes).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  };
  return {{"exit_code", response.exit_code()}, {"stdout", text(response.stdout())}, {"stderr", text(response.stderr())}};
}

std::string ReadInput(const std::string& path) {
  if (path == "-") return {std::istreambuf_iterator<char>(std::cin), {}};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CriError("cannot read " + path + ": no such file or not readable");
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace hull::cri
