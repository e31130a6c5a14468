#include "cli/exec_process.h"

#include <charconv>
#include <fstream>

#include "sandbox/sandbox_error.h"

namespace hull::cli {
namespace {
using shim::SandboxError;

uint32_t ParseId(const std::string& text, const std::string& user) {
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    throw SandboxError("--user '" + user + "': give numeric UID[:GID] (names are resolved in the "
                       "guest only through --process)");
  }
  return value;
}

}  // namespace

nlohmann::json BuildExecProcess(const ExecRequest& request, const nlohmann::json& base) {
  nlohmann::json process;
  if (!request.process_file.empty()) {
    std::ifstream in(request.process_file);
    if (!in) throw SandboxError("cannot read the process file " + request.process_file);
    process = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (process.is_discarded() || !process.is_object()) {
      throw SandboxError("the process file " + request.process_file + " is not a JSON object");
    }
  } else {
    if (request.args.empty()) {
      throw SandboxError("no command to run: give it after the container id, or use --process FILE");
    }
    process = base.is_object() ? base : nlohmann::json::object();
    process["args"] = request.args;
    process["terminal"] = false;
    process.erase("consoleSize");
  }
  if (!request.env.empty()) {
    nlohmann::json env = process.contains("env") && process["env"].is_array() ? process["env"]
                                                                             : nlohmann::json::array();
    for (const auto& e : request.env) {
      if (e.find('=') == std::string::npos) {
        throw SandboxError("--env '" + e + "': write it as KEY=VALUE");
      }
      env.push_back(e);
    }
    process["env"] = env;
  }
  if (!request.cwd.empty()) process["cwd"] = request.cwd;
  if (!request.user.empty()) {
    const auto colon = request.user.find(':');
    nlohmann::json user = process.contains("user") && process["user"].is_object()
                              ? process["user"]
                              : nlohmann::json::object();
    user["uid"] = ParseId(request.user.substr(0, colon), request.user);
    user["gid"] = colon == std::string::npos ? 0u : ParseId(request.user.substr(colon + 1), request.user);
    process["user"] = user;
  }
  if (request.tty) process["terminal"] = *request.tty;
  if (!process.contains("args") || !process["args"].is_array() || process["args"].empty()) {
    throw SandboxError("the process has no args: nothing to run");
  }
  if (!process.contains("cwd")) process["cwd"] = "/";
  if (!process.contains("user")) process["user"] = {{"uid", 0}, {"gid", 0}};
  return process;
}

}  // namespace hull::cli
