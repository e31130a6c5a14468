#include "jailer/mount_info.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "jailer/jailer_error.h"

namespace hull::vmm::jailer {

namespace {

// mountinfo writes ' ', '\t', '\n' and '\\' in paths as \ooo.
std::string Unescape(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '3' &&
        field[i + 2] >= '0' && field[i + 2] <= '7' && field[i + 3] >= '0' && field[i + 3] <= '7') {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

}  // namespace

std::optional<MountPoint> FindMountPoint(std::string_view mountinfo, const std::filesystem::path& path) {
  std::filesystem::path wanted = path.lexically_normal();
  if (!wanted.has_filename() && wanted != wanted.root_path()) wanted = wanted.parent_path();  // "/a/b/" is "/a/b"
  std::optional<MountPoint> found;
  std::istringstream lines{std::string(mountinfo)};
  std::string line;
  while (std::getline(lines, line)) {
    // id parent major:minor root mount-point options [optional fields...] - fstype source super-options
    std::istringstream in(line);
    std::vector<std::string> fields;
    for (std::string f; in >> f;) fields.push_back(f);
    if (fields.size() < 7) continue;
    if (std::filesystem::path(Unescape(fields[4])).lexically_normal() != wanted) continue;
    MountPoint m;
    m.path = wanted;
    for (size_t i = 6; i < fields.size() && fields[i] != "-"; ++i) {
      if (fields[i].rfind("shared:", 0) == 0) m.shared = true;
    }
    found = m;
  }
  return found;
}

std::string ReadOwnMountInfo() {
  std::ifstream in("/proc/self/mountinfo");
  if (!in) throw JailerError("cannot read /proc/self/mountinfo (is /proc mounted?)");
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace hull::vmm::jailer
