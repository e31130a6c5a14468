#include "config/field_reader.h"

namespace hull::vmm::config {

FieldReader::FieldReader(const nlohmann::json& object, std::string section,
                         std::initializer_list<const char*> known)
    : object_(object), section_(std::move(section)) {
  if (!object_.is_object()) {
    throw ConfigError(section_ + ": expected a JSON object, got " +
                      std::string(object_.type_name()));
  }
  if (known.size() > 0) {
    for (const char* field : known) seen_.insert(field);
    RejectUnknown();
    seen_.clear();
  }
}

void FieldReader::Fail(const std::string& field, const std::string& problem) const {
  throw ConfigError(section_ + "." + field + ": " + problem);
}

const nlohmann::json* FieldReader::Find(const std::string& field) {
  seen_.insert(field);
  auto it = object_.find(field);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

const nlohmann::json* FieldReader::Raw(const std::string& field) {
  return Find(field);
}

std::optional<std::string> FieldReader::String(const std::string& field) {
  const auto* v = Find(field);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) Fail(field, "expected a string, got " + std::string(v->type_name()));
  return v->get<std::string>();
}

std::optional<bool> FieldReader::Bool(const std::string& field) {
  const auto* v = Find(field);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) Fail(field, "expected true or false, got " + std::string(v->type_name()));
  return v->get<bool>();
}

std::optional<uint64_t> FieldReader::Unsigned(const std::string& field) {
  const auto* v = Find(field);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer())
    Fail(field, "expected a whole number, got " + std::string(v->type_name()));
  if (!v->is_number_unsigned() && v->get<int64_t>() < 0) Fail(field, "must not be negative");
  return v->get<uint64_t>();
}

std::string FieldReader::RequiredString(const std::string& field) {
  auto v = String(field);
  if (!v) Fail(field, "is required");
  return *v;
}

uint64_t FieldReader::RequiredUnsigned(const std::string& field) {
  auto v = Unsigned(field);
  if (!v) Fail(field, "is required");
  return *v;
}

bool FieldReader::RequiredBool(const std::string& field) {
  auto v = Bool(field);
  if (!v) Fail(field, "is required");
  return *v;
}

void FieldReader::Unsupported(const std::string& field, const std::string& why) {
  if (Find(field) != nullptr) Fail(field, "is not supported by hull (" + why + "); remove it");
}

void FieldReader::RejectUnknown() const {
  std::string unknown;
  for (const auto& [key, value] : object_.items()) {
    if (seen_.count(key) == 0) unknown += (unknown.empty() ? "" : ", ") + ("'" + key + "'");
  }
  if (!unknown.empty()) {
    throw ConfigError(section_ + ": unknown field" +
                      (unknown.find(',') != std::string::npos ? "s " : " ") + unknown +
                      " (check the spelling against Firecracker's API)");
  }
}

}  // namespace hull::vmm::config
