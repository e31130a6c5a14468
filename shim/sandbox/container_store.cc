#include "sandbox/container_store.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "sandbox/sandbox_error.h"

namespace hull::shim {
namespace fs = std::filesystem;

namespace {

constexpr int kNotFound = 5;
constexpr int kAlreadyExists = 6;
constexpr int kInvalidArgument = 3;
constexpr const char* kStateFile = "state.json";
constexpr const char* kLockFile = "lock";

SandboxError NotFound(const std::string& id) {
  // Podman looks for "does not exist" in the runtime's stderr.
  return SandboxError("container does not exist: " + id, kNotFound);
}

void WriteAllOrThrow(int fd, const std::string& data, const fs::path& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw SandboxError("cannot write " + path.string() + ": " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
}

}  // namespace

std::optional<ProcessIdentity> IdentifyProcess(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  // The command name (field 2) is in parentheses and may hold spaces: skip past the last ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  std::string field;
  // Fields 3.. follow; the state is field 3, start time field 22.
  std::string state;
  rest >> state;
  if (state == "Z" || state == "X") return std::nullopt;
  for (int i = 4; i < 22; ++i) rest >> field;
  uint64_t start_time = 0;
  if (!(rest >> start_time)) return std::nullopt;
  return ProcessIdentity{pid, start_time};
}

bool IsAlive(const ProcessIdentity& who) {
  if (who.pid <= 0) return false;
  auto now = IdentifyProcess(who.pid);
  return now && now->start_time == who.start_time;
}

nlohmann::json RecordToJson(const ContainerRecord& r) {
  nlohmann::json j = {{"id", r.id},
                      {"bundle", r.bundle},
                      {"rootfs", r.rootfs},
                      {"created", r.created},
                      {"owner", r.owner},
                      {"annotations", r.annotations},
                      {"status", r.status},
                      {"keeper", {{"pid", r.keeper.pid}, {"start_time", r.keeper.start_time}}},
                      {"vmm", {{"pid", r.vmm.pid}, {"start_time", r.vmm.start_time}}},
                      {"terminal", r.terminal}};
  if (r.exit_status) j["exit_status"] = *r.exit_status;
  if (!r.netns.empty()) {
    nlohmann::json mirrors = nlohmann::json::array();
    for (const auto& [veth, tap] : r.mirrors) mirrors.push_back({{"veth", veth}, {"tap", tap}});
    j["network"] = {{"netns", r.netns}, {"mirrors", mirrors}};
  }
  return j;
}

ContainerRecord RecordFromJson(const nlohmann::json& j) {
  try {
    ContainerRecord r;
    r.id = j.at("id").get<std::string>();
    r.bundle = j.at("bundle").get<std::string>();
    r.rootfs = j.at("rootfs").get<std::string>();
    r.created = j.at("created").get<std::string>();
    r.owner = j.at("owner").get<std::string>();
    r.annotations = j.at("annotations").get<std::map<std::string, std::string>>();
    r.status = j.at("status").get<std::string>();
    r.keeper = {j.at("keeper").at("pid").get<pid_t>(),
                j.at("keeper").at("start_time").get<uint64_t>()};
    r.vmm = {j.at("vmm").at("pid").get<pid_t>(), j.at("vmm").at("start_time").get<uint64_t>()};
    r.terminal = j.value("terminal", false);
    if (j.contains("exit_status")) r.exit_status = j.at("exit_status").get<int>();
    if (j.contains("network")) {
      r.netns = j.at("network").at("netns").get<std::string>();
      for (const auto& m : j.at("network").at("mirrors")) {
        r.mirrors.emplace_back(m.at("veth").get<std::string>(), m.at("tap").get<std::string>());
      }
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw SandboxError(std::string("container state is damaged (") + e.what() +
                       "); remove it with `hull delete --force`");
  }
}

std::string EffectiveStatus(const ContainerRecord& record) {
  if (record.status == "stopped" || !IsAlive(record.keeper)) return "stopped";
  return record.status;
}

nlohmann::json RuncStateJson(const ContainerRecord& record) {
  const std::string status = EffectiveStatus(record);
  nlohmann::json j = {{"ociVersion", "1.0.2"},
                      {"id", record.id},
                      {"pid", status == "stopped" ? 0 : record.keeper.pid},
                      {"status", status},
                      {"bundle", record.bundle},
                      {"rootfs", record.rootfs},
                      {"created", record.created},
                      {"owner", record.owner}};
  if (!record.annotations.empty()) j["annotations"] = record.annotations;
  return j;
}

bool IsValidContainerId(const std::string& id) {
  if (id.empty() || id.size() > 128 || !std::isalnum(static_cast<unsigned char>(id[0]))) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

void ContainerStore::Reserve(const std::string& id) const {
  if (!IsValidContainerId(id)) {
    throw SandboxError("invalid container id '" + id +
                           "': use letters, digits, '_', '.', '-' (at most 128, starting with a "
                           "letter or digit)",
                       kInvalidArgument);
  }
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec) throw SandboxError("cannot create the state root " + root_.string() + ": " + ec.message());
  if (::mkdir(Dir(id).c_str(), 0700) != 0) {
    if (errno == EEXIST) throw SandboxError("container with id exists: " + id, kAlreadyExists);
    throw SandboxError("cannot create " + Dir(id).string() + ": " + std::strerror(errno));
  }
}

ContainerLock ContainerStore::Lock(const std::string& id) const {
  if (!IsValidContainerId(id)) throw NotFound(id);
  const fs::path path = Dir(id) / kLockFile;
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) {
    if (errno == ENOENT) throw NotFound(id);
    throw SandboxError("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) throw SandboxError("cannot lock " + path.string() + ": " + std::strerror(errno));
  }
  // Whoever held the lock before may have deleted the container meanwhile.
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || st.st_nlink == 0) throw NotFound(id);
  return ContainerLock(std::move(fd));
}

ContainerRecord ContainerStore::Load(const std::string& id) const {
  if (!IsValidContainerId(id)) throw NotFound(id);
  std::ifstream in(Dir(id) / kStateFile);
  if (!in) throw NotFound(id);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    throw SandboxError("container state " + (Dir(id) / kStateFile).string() +
                       " is not valid JSON; remove it with `hull delete --force " + id + "`");
  }
  return RecordFromJson(j);
}

void ContainerStore::Save(const ContainerRecord& record) const {
  const fs::path dir = Dir(record.id);
  const fs::path tmp = dir / (std::string(kStateFile) + ".tmp");
  const fs::path final_path = dir / kStateFile;
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) throw SandboxError("cannot write " + tmp.string() + ": " + std::strerror(errno));
  WriteAllOrThrow(fd.get(), RecordToJson(record).dump() + "\n", tmp);
  if (::fsync(fd.get()) != 0) throw SandboxError("cannot sync " + tmp.string() + ": " + std::strerror(errno));
  fd.Reset();
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    throw SandboxError("cannot replace " + final_path.string() + ": " + std::strerror(errno));
  }
}

void ContainerStore::Remove(const std::string& id) const {
  if (!IsValidContainerId(id)) throw NotFound(id);
  std::error_code ec;
  fs::remove_all(Dir(id), ec);
  if (ec) throw SandboxError("cannot remove " + Dir(id).string() + ": " + ec.message());
}

std::vector<std::string> ContainerStore::List() const {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    const std::string name = entry.path().filename().string();
    if (IsValidContainerId(name) && fs::exists(entry.path() / kStateFile, ec)) ids.push_back(name);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::string NowRfc3339Nano() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now - secs).count();
  const std::time_t t = secs.count();
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%s.%09lldZ", date, static_cast<long long>(nanos));
  return out;
}

std::string UserName(uid_t uid) {
  passwd pw{};
  passwd* found = nullptr;
  char buf[4096];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found) return found->pw_name;
  return std::to_string(uid);
}

}  // namespace hull::shim
