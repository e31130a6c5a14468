// Small file helpers (cgroupfs, procfs, sysctl) that throw RuntimeError.
#pragma once

#include <optional>
#include <string>

namespace hull::runtime {

std::string read_file(const std::string& path);
std::optional<std::string> try_read_file(const std::string& path);
void write_file(const std::string& path, const std::string& data);
// mkdir -p; existing directories are fine.
void make_dirs(const std::string& path, unsigned mode = 0755);

}  // namespace hull::runtime
