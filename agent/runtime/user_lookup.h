// Resolves a user name against a container's /etc/passwd (read safely inside its root).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace hull::runtime {

struct PasswdEntry {
  uint32_t uid = 0, gid = 0;
};

// Looks `name` up in passwd-format `text`.
std::optional<PasswdEntry> find_passwd_entry(const std::string& text, const std::string& name);
// Reads <root>/etc/passwd without following symlinks out of root; throws
// RuntimeError(invalid_argument) when the user does not exist.
PasswdEntry lookup_user(const std::string& root, const std::string& name);

}  // namespace hull::runtime
