// OCI lifecycle hooks that hull runs on the host, as runc does: prestart and
// createRuntime (before `create` returns), poststart (after `start`) and
// poststop (at `delete`). runc runs every hook in the runtime's namespaces,
// whatever its path, so a path inside the container's rootfs is not special
// here either. createContainer and startContainer run in the container's
// namespaces, which are in the guest: those stay in the spec the agent gets.
//
// A hook gets the container's state JSON on stdin (ociVersion, id, status,
// pid, bundle, annotations), runs with exactly its own args and env, and is
// killed after its timeout.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace hull::shim {

struct OciHook {
  std::string path;               // absolute
  std::vector<std::string> args;  // argv, args[0] included; empty: {path}
  std::vector<std::string> env;   // the hook's whole environment
  std::optional<int> timeout_s;   // > 0; nullopt: kDefaultHookTimeout
};

// The bound for a hook that names no timeout (the spec allows waiting for
// ever; a hung hook would hang `docker run` with it).
inline constexpr std::chrono::seconds kDefaultHookTimeout{120};

struct HostHooks {
  std::vector<OciHook> prestart;
  std::vector<OciHook> create_runtime;
  std::vector<OciHook> poststart;
  std::vector<OciHook> poststop;
  bool empty() const {
    return prestart.empty() && create_runtime.empty() && poststart.empty() && poststop.empty();
  }
};

// The host phases of config.json's "hooks". Throws SandboxError naming the
// field when one is malformed (relative path, non-string arg, timeout <= 0).
HostHooks HostHooksFrom(const nlohmann::json& config);
// Round trip through the container's state directory (delete needs poststop).
nlohmann::json HostHooksToJson(const HostHooks& hooks);

// What `start` and `delete` need of a created container's hooks, kept in its
// state directory: the spec's ociVersion and the host phases.
struct StoredHostHooks {
  std::string oci_version;
  HostHooks hooks;
};
void SaveHostHooks(const std::filesystem::path& file, const StoredHostHooks& stored);
// nullopt when there is no such file (a container without host hooks).
// Throws SandboxError when it cannot be read.
std::optional<StoredHostHooks> LoadHostHooks(const std::filesystem::path& file);

// Removes the host phases from config.json's "hooks" (and "hooks" itself
// when nothing is left), so the guest agent sees only its own.
void RemoveHostHooks(nlohmann::json& config);

struct HookState {
  std::string oci_version;
  std::string id;
  std::string status;  // creating | created | running | stopped
  pid_t pid = 0;       // 0: left out (a stopped container has none)
  std::string bundle;
  std::map<std::string, std::string> annotations;
};

// The state document a hook reads on stdin.
std::string HookStateJson(const HookState& state);

// Runs `hooks` in order, each to completion. Throws SandboxError on the first
// that cannot start, exits non-zero, is killed or passes its timeout; the
// message names `phase`, the hook's index and path and ends with what the hook
// wrote (stderr and stdout, last 4 KiB).
void RunHooks(const std::vector<OciHook>& hooks, const std::string& phase, const std::string& state_json);

}  // namespace hull::shim
