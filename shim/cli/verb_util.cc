#include "cli/verb_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "sandbox/sandbox_error.h"

namespace hull::cli {

int RunReportingErrors(const GlobalOptions& global, const std::string& what,
                       const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    ReportError(global, what + ": " + e.what());
    return kExitFailure;
  }
}

void WritePidFile(const std::string& path, pid_t pid) {
  const std::string tmp = path + ".tmp";
  shim::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) throw shim::SandboxError("cannot write the pid file " + tmp + ": " + std::strerror(errno));
  const std::string text = std::to_string(pid);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    throw shim::SandboxError("cannot write the pid file " + tmp + ": " + std::strerror(errno));
  }
  fd.Reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    throw shim::SandboxError("cannot write the pid file " + path + ": " + std::strerror(errno));
  }
}

std::string RenderListTable(const std::vector<nlohmann::json>& states) {
  std::vector<std::vector<std::string>> rows = {{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
  for (const auto& s : states) {
    rows.push_back({s.value("id", ""), std::to_string(s.value("pid", 0)), s.value("status", ""),
                    s.value("bundle", ""), s.value("created", ""), s.value("owner", "")});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      out += row[c];
      if (c + 1 < row.size()) out.append(std::max<size_t>(width[c] + 3, 12) - row[c].size(), ' ');
    }
    out += "\n";
  }
  return out;
}

}  // namespace hull::cli
