#include "runtime/hooks.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "runtime/error.h"
#include "runtime/unique_fd.h"

namespace hull::runtime {
namespace {

// Forks the hook with the state on a pipe as stdin. Returns its pid.
pid_t spawn(const oci::Hook& hook, const std::string& state) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw_errno("pipe2 for a hook");
  UniqueFd rd(p[0]), wr(p[1]);
  std::vector<std::string> args =
      hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = hook.env;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork for a hook");
  if (pid == 0) {
    ::dup2(rd.get(), 0);
    for (int s = 1; s < NSIG; ++s) ::signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(hook.path.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  rd.reset();
  // A hook that does not read its stdin must not block us: ignore EPIPE.
  (void)!::write(wr.get(), state.data(), state.size());
  return pid;
}

std::string describe(const std::string& phase, size_t i, const oci::Hook& h) {
  return "hooks." + phase + "[" + std::to_string(i) + "] (" + h.path + ")";
}

}  // namespace

std::string HookState::json() const {
  nlohmann::json j{{"ociVersion", oci_version}, {"id", id}, {"status", status}, {"bundle", bundle}};
  if (pid > 0) j["pid"] = pid;
  return j.dump();
}

void run_hooks(Reaper& reaper, const std::vector<oci::Hook>& hooks, const HookState& state,
               const std::string& phase) {
  std::string text = state.json();
  for (size_t i = 0; i < hooks.size(); ++i) {
    const oci::Hook& h = hooks[i];
    pid_t pid;
    {
      auto held = reaper.lock();
      pid = spawn(h, text);
      reaper.expect(pid, held);
    }
    int timeout_ms = h.timeout_seconds ? *h.timeout_seconds * 1000 : 60 * 60 * 1000;
    auto st = reaper.wait_for(pid, timeout_ms);
    if (!st) {
      ::kill(pid, SIGKILL);
      reaper.wait(pid);
      reaper.forget(pid);
      throw RuntimeError(
          ErrorKind::failed_precondition,
          describe(phase, i, h) + ": timed out after " + std::to_string(*h.timeout_seconds) + " s");
    }
    reaper.forget(pid);
    if (st->code == 127 && st->signal == 0 && ::access(h.path.c_str(), X_OK) != 0)
      throw RuntimeError(ErrorKind::invalid_argument,
                         describe(phase, i, h) + ": cannot execute it");
    if (st->code != 0)
      throw RuntimeError(
          ErrorKind::failed_precondition,
          describe(phase, i, h) + ": exited with status " + std::to_string(st->code));
  }
}

void run_hooks_in_child(const std::vector<oci::Hook>& hooks, const HookState& state,
                        const std::string& phase) {
  std::string text = state.json();
  for (size_t i = 0; i < hooks.size(); ++i) {
    const oci::Hook& h = hooks[i];
    pid_t pid = spawn(h, text);
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(h.timeout_seconds.value_or(3600));
    int status = 0;
    for (;;) {
      pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) break;
      if (r < 0 && errno != EINTR) throw_errno(describe(phase, i, h) + ": waitpid");
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        throw RuntimeError(ErrorKind::failed_precondition, describe(phase, i, h) + ": timed out");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ExitStatus st = decode_wait_status(status);
    if (st.code != 0)
      throw RuntimeError(ErrorKind::failed_precondition,
                         describe(phase, i, h) + ": exited with status " + std::to_string(st.code));
  }
}

}  // namespace hull::runtime
