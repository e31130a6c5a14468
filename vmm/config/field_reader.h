// Strict reading of one JSON object: typed getters that say which field of
// which section is wrong, and a final check that rejects every field nobody
// asked for (by name), so a typo never passes silently.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "config/config_error.h"

namespace hull::vmm::config {

class FieldReader {
 public:
  // Throws ConfigError when `object` is not a JSON object, or when it has a
  // field outside `known` (checked first, so a misspelled required field is
  // reported as the unknown name the user wrote).
  FieldReader(const nlohmann::json& object, std::string section,
              std::initializer_list<const char*> known = {});

  std::optional<std::string> String(const std::string& field);
  std::optional<bool> Bool(const std::string& field);
  std::optional<uint64_t> Unsigned(const std::string& field);
  // The raw value (any type), marked as read.
  const nlohmann::json* Raw(const std::string& field);

  // Same, but a missing field is an error.
  std::string RequiredString(const std::string& field);
  uint64_t RequiredUnsigned(const std::string& field);
  bool RequiredBool(const std::string& field);

  // Fields Firecracker knows that hull does not implement: an error naming them.
  void Unsupported(const std::string& field, const std::string& why);
  // Throws ConfigError listing any field not read so far.
  void RejectUnknown() const;

  [[noreturn]] void Fail(const std::string& field, const std::string& problem) const;
  const std::string& section() const { return section_; }

 private:
  const nlohmann::json* Find(const std::string& field);

  const nlohmann::json& object_;
  std::string section_;
  std::set<std::string> seen_;
};

}  // namespace hull::vmm::config
