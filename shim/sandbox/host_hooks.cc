#include "sandbox/host_hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "sandbox/sandbox_error.h"
#include "sandbox/unique_fd.h"

namespace hull::shim {
namespace {
using nlohmann::json;

constexpr const char* kHostPhases[] = {"prestart", "createRuntime", "poststart", "poststop"};
constexpr size_t kOutputKept = 4096;

std::vector<std::string> StringArray(const json& hook, const char* key, const std::string& where) {
  std::vector<std::string> out;
  if (!hook.contains(key)) return out;
  if (!hook[key].is_array()) throw SandboxError(where + "." + key + " must be an array of strings");
  for (const json& v : hook[key]) {
    if (!v.is_string()) throw SandboxError(where + "." + key + " must be an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::vector<OciHook> PhaseFrom(const json& hooks, const char* phase) {
  std::vector<OciHook> out;
  if (!hooks.contains(phase)) return out;
  const std::string where = std::string("hooks.") + phase;
  if (!hooks[phase].is_array()) throw SandboxError("config.json: " + where + " must be an array");
  for (size_t i = 0; i < hooks[phase].size(); ++i) {
    const json& h = hooks[phase][i];
    const std::string at = "config.json: " + where + "[" + std::to_string(i) + "]";
    if (!h.is_object() || !h.contains("path") || !h["path"].is_string()) {
      throw SandboxError(at + " needs a \"path\" string");
    }
    OciHook hook;
    hook.path = h["path"].get<std::string>();
    if (hook.path.empty() || hook.path[0] != '/') {
      throw SandboxError(at + ".path '" + hook.path + "' must be an absolute path (the OCI spec requires it)");
    }
    hook.args = StringArray(h, "args", at);
    hook.env = StringArray(h, "env", at);
    if (h.contains("timeout")) {
      if (!h["timeout"].is_number_integer() || h["timeout"].get<long long>() <= 0 ||
          h["timeout"].get<long long>() > 24 * 3600) {
        throw SandboxError(at + ".timeout must be a number of seconds from 1 to 86400");
      }
      hook.timeout_s = h["timeout"].get<int>();
    }
    out.push_back(std::move(hook));
  }
  return out;
}

json PhaseToJson(const std::vector<OciHook>& hooks) {
  json out = json::array();
  for (const auto& h : hooks) {
    json j = {{"path", h.path}};
    if (!h.args.empty()) j["args"] = h.args;
    if (!h.env.empty()) j["env"] = h.env;
    if (h.timeout_s) j["timeout"] = *h.timeout_s;
    out.push_back(std::move(j));
  }
  return out;
}

// What a hook wrote, with only the last kOutputKept bytes kept.
class OutputTail {
 public:
  void Append(const char* data, size_t n) {
    text_.append(data, n);
    if (text_.size() > 2 * kOutputKept) text_.erase(0, text_.size() - kOutputKept);
  }
  std::string Text() const {
    std::string t = text_.size() > kOutputKept ? "..." + text_.substr(text_.size() - kOutputKept) : text_;
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    return t;
  }

 private:
  std::string text_;
};

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Forks and execs the hook with its stdin and stdout/stderr on the given pipe
// ends; it leads its own process group so a timeout can kill what it started.
pid_t SpawnHook(const OciHook& hook, int stdin_fd, int output_fd) {
  std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = hook.env;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw SandboxError(std::string("fork for a hook: ") + std::strerror(errno));
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    ::setpgid(0, 0);
    ::dup2(stdin_fd, 0);
    ::dup2(output_fd, 1);
    ::dup2(output_fd, 2);
    ::syscall(SYS_close_range, 3u, ~0u, 0u);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s : {SIGPIPE, SIGHUP, SIGINT}) ::signal(s, SIG_DFL);
    ::execve(hook.path.c_str(), argv.data(), envp.data());
    const int err = errno;
    const char* prefix = "cannot execute the hook: ";
    (void)!::write(2, prefix, std::strlen(prefix));
    // Lower case, as runc's (Go's) errno texts: Docker matches "no such file or directory".
    const char* why = err == ENOENT ? "no such file or directory" : err == EACCES ? "permission denied" : std::strerror(err);
    (void)!::write(2, why, std::strlen(why));
    ::_exit(127);
  }
  return pid;
}

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
         ::strsignal(WTERMSIG(status)) + ")";
}

void RunOneHook(const OciHook& hook, const std::string& what, const std::string& state_json) {
  // stdin is a socket so that writing to a hook that has exited raises no
  // SIGPIPE in the verb (MSG_NOSIGNAL); the hook reads it as any stream.
  int in[2], out[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0) {
    throw SandboxError(std::string("socketpair for a hook: ") + std::strerror(errno));
  }
  UniqueFd in_read(in[0]), in_write(in[1]);
  if (::pipe2(out, O_CLOEXEC) != 0) throw SandboxError(std::string("pipe for a hook: ") + std::strerror(errno));
  UniqueFd out_read(out[0]), out_write(out[1]);
  const pid_t pid = SpawnHook(hook, in_read.get(), out_write.get());
  in_read.Reset();
  out_write.Reset();
  SetNonBlocking(out_read.get());
  UniqueFd exit_fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));

  const auto timeout = hook.timeout_s ? std::chrono::seconds(*hook.timeout_s) : kDefaultHookTimeout;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  OutputTail output;
  size_t written = 0;
  if (state_json.empty()) in_write.Reset();
  std::optional<int> status;
  auto reap = [&](int flags) {
    int s = 0;
    pid_t r;
    while ((r = ::waitpid(pid, &s, flags)) < 0 && errno == EINTR) {
    }
    if (r == pid) status = s;
  };
  while (!status) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      reap(0);
      std::string text = output.Text();
      throw SandboxError(what + " did not finish within its timeout of " + std::to_string(timeout.count()) +
                         " s and was killed" + (text.empty() ? "" : ": " + text));
    }
    pollfd fds[3];
    nfds_t n = 0;
    if (exit_fd) fds[n++] = {exit_fd.get(), POLLIN, 0};
    if (out_read) fds[n++] = {out_read.get(), POLLIN, 0};
    if (in_write) fds[n++] = {in_write.get(), POLLOUT, 0};
    // Without a pidfd (an old kernel), poll in short steps and check for the exit.
    const int wait_ms = exit_fd ? static_cast<int>(std::min<long long>(left.count(), 1000)) : 10;
    if (::poll(fds, n, wait_ms) < 0 && errno != EINTR) {
      throw SandboxError(std::string("poll while running a hook: ") + std::strerror(errno));
    }
    if (out_read) {
      char buf[4096];
      ssize_t got;
      while ((got = ::read(out_read.get(), buf, sizeof buf)) > 0) output.Append(buf, static_cast<size_t>(got));
      if (got == 0) out_read.Reset();
    }
    if (in_write) {
      const ssize_t put = ::send(in_write.get(), state_json.data() + written, state_json.size() - written,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
      if (put > 0) written += static_cast<size_t>(put);
      // A hook that does not read its stdin (EPIPE) is fine: runc does not mind either.
      if (written == state_json.size() || (put < 0 && errno != EAGAIN && errno != EINTR)) in_write.Reset();
    }
    reap(WNOHANG);
  }
  if (out_read) {  // what it wrote just before exiting (a child of it may keep the pipe: no waiting)
    char buf[4096];
    ssize_t got;
    while ((got = ::read(out_read.get(), buf, sizeof buf)) > 0) output.Append(buf, static_cast<size_t>(got));
  }
  if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) return;
  const std::string text = output.Text();
  throw SandboxError(what + " " + DescribeStatus(*status) + (text.empty() ? " and wrote nothing" : ": " + text));
}

}  // namespace

HostHooks HostHooksFrom(const json& config) {
  HostHooks h;
  if (!config.is_object() || !config.contains("hooks") || config["hooks"].is_null()) return h;
  const json& hooks = config["hooks"];
  if (!hooks.is_object()) throw SandboxError("config.json: hooks must be an object");
  h.prestart = PhaseFrom(hooks, "prestart");
  h.create_runtime = PhaseFrom(hooks, "createRuntime");
  h.poststart = PhaseFrom(hooks, "poststart");
  h.poststop = PhaseFrom(hooks, "poststop");
  return h;
}

json HostHooksToJson(const HostHooks& hooks) {
  json out = json::object();
  auto put = [&out](const char* phase, const std::vector<OciHook>& list) {
    if (!list.empty()) out[phase] = PhaseToJson(list);
  };
  put("prestart", hooks.prestart);
  put("createRuntime", hooks.create_runtime);
  put("poststart", hooks.poststart);
  put("poststop", hooks.poststop);
  return {{"hooks", out}};
}

void RemoveHostHooks(json& config) {
  if (!config.is_object() || !config.contains("hooks") || !config["hooks"].is_object()) return;
  json& hooks = config["hooks"];
  for (const char* phase : kHostPhases) hooks.erase(phase);
  if (hooks.empty()) config.erase("hooks");
}

void SaveHostHooks(const std::filesystem::path& file, const StoredHostHooks& stored) {
  json j = HostHooksToJson(stored.hooks);
  j["ociVersion"] = stored.oci_version;
  const std::filesystem::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump();
    if (!out.flush()) throw SandboxError("cannot write " + tmp.string());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) throw SandboxError("cannot write " + file.string() + ": " + ec.message());
}

std::optional<StoredHostHooks> LoadHostHooks(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  const json j = json::parse(in, nullptr, false);
  if (!j.is_object()) throw SandboxError(file.string() + " is not the JSON hull wrote: delete the container with --force");
  StoredHostHooks stored;
  stored.oci_version = j.value("ociVersion", std::string());
  stored.hooks = HostHooksFrom(j);
  return stored;
}

std::string HookStateJson(const HookState& state) {
  json j = {{"ociVersion", state.oci_version.empty() ? "1.0.2" : state.oci_version},
            {"id", state.id},
            {"status", state.status},
            {"bundle", state.bundle}};
  if (state.pid > 0) j["pid"] = state.pid;
  if (!state.annotations.empty()) j["annotations"] = state.annotations;
  return j.dump();
}

void RunHooks(const std::vector<OciHook>& hooks, const std::string& phase, const std::string& state_json) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    RunOneHook(hooks[i], phase + " hook " + std::to_string(i) + " (" + hooks[i].path + ")", state_json);
  }
}

}  // namespace hull::shim
