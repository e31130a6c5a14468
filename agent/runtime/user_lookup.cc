#include "runtime/user_lookup.h"

#include <fcntl.h>

#include <sstream>
#include <vector>

#include "runtime/error.h"
#include "runtime/files.h"
#include "runtime/safe_path.h"

namespace hull::runtime {

std::optional<PasswdEntry> find_passwd_entry(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string x; std::getline(fields, x, ':');) f.push_back(x);
    if (f.size() < 4 || f[0] != name) continue;
    try {
      return PasswdEntry{static_cast<uint32_t>(std::stoul(f[2])),
                         static_cast<uint32_t>(std::stoul(f[3]))};
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

PasswdEntry lookup_user(const std::string& root, const std::string& name) {
  std::string text;
  UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (root_fd) {
    try {
      UniqueFd f = open_in_root(root_fd.get(), "/etc/passwd", CreateAs::nothing);
      text = try_read_file(fd_path(f.get())).value_or("");
    } catch (const RuntimeError&) {
    }
  }
  auto e = find_passwd_entry(text, name);
  if (!e)
    throw RuntimeError(ErrorKind::invalid_argument, "process.user.username: no user \"" + name +
                                                        "\" in the container's /etc/passwd");
  return *e;
}

}  // namespace hull::runtime
