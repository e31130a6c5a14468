#include "runtime/exec_lookup.h"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstring>

namespace hull::runtime {
namespace {

// Go's errno texts are strerror's, lower case ("no such file or directory").
std::string go_errno_text(int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// 0 when `path` is a file with an execute bit; else the errno exec would give.
int executable_error(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno;
  if (S_ISDIR(st.st_mode) || (st.st_mode & 0111) == 0) return EACCES;  // Go: fs.ErrPermission
  return 0;
}

std::string search_path(const std::vector<std::string>& env) {
  std::string path = "/bin:/usr/bin";  // execvp's default
  for (const auto& e : env) {
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);  // the last one wins, as getenv after putenv
  }
  return path;
}

std::string joined(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

}  // namespace

std::optional<std::string> find_executable_error(const std::string& program, const std::vector<std::string>& env,
                                                 const std::string& cwd) {
  if (program.empty()) return "exec: \"\": executable file not found in $PATH";
  if (program.find('/') != std::string::npos) {
    const std::string path = program[0] == '/' ? program : joined(cwd.empty() ? "/" : cwd, program);
    const int err = executable_error(path);
    if (err == 0) return std::nullopt;
    if (err == EACCES) return "exec: " + quoted(program) + ": permission denied";
    return "exec: " + quoted(program) + ": stat " + program + ": " + go_errno_text(err);
  }
  const std::string dirs = search_path(env);
  size_t begin = 0;
  while (true) {
    const size_t end = dirs.find(':', begin);
    std::string dir = dirs.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    if (dir.empty()) dir = ".";  // an empty PATH entry is the working directory
    if (dir[0] != '/') dir = joined(cwd.empty() ? "/" : cwd, dir);
    if (executable_error(joined(dir, program)) == 0) return std::nullopt;
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  return "exec: " + quoted(program) + ": executable file not found in $PATH";
}

}  // namespace hull::runtime
