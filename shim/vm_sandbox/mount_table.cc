#include "vm_sandbox/mount_table.h"

#include <sys/mount.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace hull::vm_sandbox {
namespace fs = std::filesystem;

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

bool IsAtOrBelow(const fs::path& path, const fs::path& dir) {
  auto p = path.begin();
  for (auto d = dir.begin(); d != dir.end(); ++d, ++p) {
    if (d->empty()) continue;  // a trailing separator
    if (p == path.end() || *p != *d) return false;
  }
  return true;
}

std::string ReadOwnMountInfo() {
  std::ifstream in("/proc/self/mountinfo");
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

std::vector<fs::path> MountPointsBelow(std::string_view mountinfo, const fs::path& dir) {
  const fs::path base = dir.lexically_normal();
  std::vector<std::pair<size_t, fs::path>> found;  // (line, mount point)
  std::istringstream lines{std::string(mountinfo)};
  std::string line;
  for (size_t n = 0; std::getline(lines, line); ++n) {
    // id parent major:minor root mount-point options ...
    std::istringstream in(line);
    std::string field;
    for (int i = 0; i < 5 && in >> field; ++i) {
    }
    if (!in) continue;
    const fs::path point = fs::path(Unescape(field)).lexically_normal();
    if (IsAtOrBelow(point, base)) found.emplace_back(n, point);
  }
  // Deepest first; among equals (mounts stacked on one point) the latest first.
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    const auto depth = [](const fs::path& p) { return std::distance(p.begin(), p.end()); };
    if (depth(a.second) != depth(b.second)) return depth(a.second) > depth(b.second);
    return a.first > b.first;
  });
  std::vector<fs::path> points;
  for (auto& [n, point] : found) points.push_back(std::move(point));
  return points;
}

std::vector<fs::path> DetachMountsBelow(const fs::path& dir) {
  std::error_code ec;
  const fs::path base = fs::weakly_canonical(dir, ec);
  const fs::path where = ec ? dir : base;
  // Two rounds: a detach takes the mounts below it along, and a point listed
  // twice (stacked mounts) needs one detach each.
  for (int round = 0; round < 2; ++round) {
    const std::vector<fs::path> points = MountPointsBelow(ReadOwnMountInfo(), where);
    if (points.empty()) return {};
    for (const auto& point : points) ::umount2(point.c_str(), MNT_DETACH);
  }
  return MountPointsBelow(ReadOwnMountInfo(), where);
}

}  // namespace hull::vm_sandbox
