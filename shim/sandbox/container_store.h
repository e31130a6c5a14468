// The `hull` CLI's container state store: one directory per container under
// the --root directory (default /run/hull/containers), holding state.json (written
// atomically: temp file + rename) and, while the container lives, its microVM's
// sockets, rootfs image and logs. A container's status is worked out from the
// stored status and whether its keeper process (the host process that owns the
// microVM and waits for the container) is still alive, so a crashed keeper
// reads as "stopped", as runc does with its init process.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sandbox/unique_fd.h"

namespace hull::shim {

// What a process is: its pid and its start time (field 22 of /proc/PID/stat,
// clock ticks since boot), so a recycled pid is not mistaken for it.
struct ProcessIdentity {
  pid_t pid = 0;
  uint64_t start_time = 0;
};

// The identity of a running process, or nullopt when there is none with that pid.
std::optional<ProcessIdentity> IdentifyProcess(pid_t pid);
// Whether `who` still runs (same pid and start time; zombies count as gone).
bool IsAlive(const ProcessIdentity& who);

struct ContainerRecord {
  std::string id;
  std::string bundle;          // absolute bundle directory
  std::string rootfs;          // absolute rootfs directory on the host
  std::string created;         // RFC 3339 with nanoseconds, UTC
  std::string owner;           // user name owning the container ("root")
  std::map<std::string, std::string> annotations;  // config.json's annotations
  std::string status;          // created | running | paused | stopped (as last stored)
  ProcessIdentity keeper;      // the host process holding the container (pid in `state`)
  ProcessIdentity vmm;         // hull-vmm
  std::optional<int> exit_status;  // once stopped: exit code, 128+signal when killed
  bool terminal = false;       // process.terminal of config.json
  // The mirrored taps in the spec's network namespace (empty netns: none), so
  // `delete` can remove them when the keeper could not (killed).
  std::string netns;
  std::vector<std::pair<std::string, std::string>> mirrors;  // (veth, tap)
};

nlohmann::json RecordToJson(const ContainerRecord& record);
// Throws SandboxError when `json` lacks a field or has a wrong type.
ContainerRecord RecordFromJson(const nlohmann::json& json);

// The status runc would report: the stored one while the keeper lives,
// "stopped" once it is gone.
std::string EffectiveStatus(const ContainerRecord& record);

// runc's `state` document: ociVersion, id, pid (0 when stopped), status, bundle,
// rootfs, created, owner, annotations (left out when empty).
nlohmann::json RuncStateJson(const ContainerRecord& record);

// The container id rule (the agent's, tighter than runc's):
// [A-Za-z0-9][A-Za-z0-9_.-]{0,127}.
bool IsValidContainerId(const std::string& id);

// An exclusive flock(2) on a container's lock file; the kernel drops it when
// the holder dies, so a crashed verb never leaves a container locked.
class ContainerLock {
 public:
  ContainerLock() = default;
  explicit ContainerLock(UniqueFd fd) : fd_(std::move(fd)) {}
  bool held() const { return static_cast<bool>(fd_); }

 private:
  UniqueFd fd_;
};

class ContainerStore {
 public:
  explicit ContainerStore(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path Dir(const std::string& id) const { return root_ / id; }

  // Reserves the id: creates ROOT/ID (mode 0700), failing with AlreadyExists
  // ("container with id exists: ID") when it is taken. Checks the id first.
  void Reserve(const std::string& id) const;
  // Blocks until this process holds the container's lock. Throws NotFound
  // ("container does not exist") when there is no such container.
  ContainerLock Lock(const std::string& id) const;
  // Throws NotFound when the container does not exist or has no state yet.
  ContainerRecord Load(const std::string& id) const;
  // Atomically replaces ROOT/ID/state.json.
  void Save(const ContainerRecord& record) const;
  // Removes ROOT/ID and everything in it (sockets, images, logs).
  void Remove(const std::string& id) const;
  // Ids of the containers with a state.json, sorted.
  std::vector<std::string> List() const;

 private:
  std::filesystem::path root_;
};

// Now as RFC 3339 with nanoseconds in UTC (runc's `created`).
std::string NowRfc3339Nano();
// The user name of `uid` ("root"), or its number when it has no name.
std::string UserName(uid_t uid);

}  // namespace hull::shim
