#include "runtime/cgroup.h"

#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include "runtime/error.h"
#include "runtime/files.h"

namespace hull::runtime {
namespace {

constexpr long kCgroup2Magic = 0x63677270;

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// "key value\n" lines (cpu.stat, memory.stat, memory.events).
std::map<std::string, uint64_t> flat_keyed(const std::string& text) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(text);
  std::string key;
  uint64_t value;
  while (in >> key >> value) out[key] = value;
  return out;
}

uint64_t number_or_max(const std::optional<std::string>& text) {
  if (!text) return 0;
  std::string t = words(*text).empty() ? "" : words(*text)[0];
  if (t.empty() || t == "max") return 0;
  return std::stoull(t);
}

}  // namespace

std::optional<std::string> find_cgroup2_mount() {
  struct statfs fs {};
  if (::statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == kCgroup2Magic) return "/sys/fs/cgroup";
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    // ... mount-point ... - fstype source options
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    auto before = words(line.substr(0, dash));
    auto after = words(line.substr(dash + 3));
    if (!after.empty() && after[0] == "cgroup2" && before.size() > 4) return before[4];
  }
  return std::nullopt;
}

uint64_t cpu_shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares < 2) shares = 2;
  if (shares > 262144) shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_weight_to_io_weight(uint16_t weight) {
  if (weight == 0) return 0;
  return 1 + (uint64_t(weight) - 10) * 9999 / 990;
}

std::vector<std::pair<std::string, std::string>> resource_files(const oci::Resources& r) {
  std::vector<std::pair<std::string, std::string>> out;
  auto bytes = [](int64_t v) { return v < 0 ? std::string("max") : std::to_string(v); };
  if (r.memory.limit) out.emplace_back("memory.max", bytes(*r.memory.limit));
  if (r.memory.reservation) out.emplace_back("memory.low", bytes(*r.memory.reservation));
  if (r.memory.swap) {
    if (*r.memory.swap < 0)
      out.emplace_back("memory.swap.max", "max");
    else if (r.memory.limit && *r.memory.limit >= 0)
      out.emplace_back("memory.swap.max", std::to_string(*r.memory.swap - *r.memory.limit));
  }
  if (r.cpu.shares && *r.cpu.shares)
    out.emplace_back("cpu.weight", std::to_string(cpu_shares_to_weight(*r.cpu.shares)));
  if (r.cpu.quota || r.cpu.period) {
    std::string quota = (!r.cpu.quota || *r.cpu.quota <= 0) ? "max" : std::to_string(*r.cpu.quota);
    out.emplace_back("cpu.max", quota + " " + std::to_string(r.cpu.period.value_or(100000)));
  }
  if (!r.cpu.cpus.empty()) out.emplace_back("cpuset.cpus", r.cpu.cpus);
  if (!r.cpu.mems.empty()) out.emplace_back("cpuset.mems", r.cpu.mems);
  if (r.pids_limit)
    out.emplace_back("pids.max", *r.pids_limit <= 0 ? "max" : std::to_string(*r.pids_limit));
  if (r.blkio_weight)
    out.emplace_back("io.weight",
                     "default " + std::to_string(blkio_weight_to_io_weight(*r.blkio_weight)));
  for (const auto& [k, v] : r.unified) out.emplace_back(k, v);
  return out;
}

Cgroup::Cgroup(const std::string& mount, const std::string& path)
    : mount_(mount), dir_(mount + path) {
  // Walk down from the hierarchy root: each level delegates what it has.
  std::string cur = mount;
  size_t i = 1;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string comp = path.substr(i, j - i);
    i = j + 1;
    if (comp.empty()) continue;
    auto available = try_read_file(cur + "/cgroup.controllers");
    auto enabled = try_read_file(cur + "/cgroup.subtree_control");
    if (available) {
      for (const std::string& c : words(*available)) {
        if (enabled && enabled->find(c) != std::string::npos) continue;
        try {
          write_file(cur + "/cgroup.subtree_control", "+" + c);
        } catch (const RuntimeError&) {
          // Not fatal here: apply() names the controller when a limit needs it.
        }
      }
    }
    cur += "/" + comp;
    if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) throw_errno("creating cgroup " + cur);
  }
}

void Cgroup::apply(const oci::Resources& r) {
  for (const auto& [file, value] : resource_files(r)) {
    std::string path = dir_ + "/" + file;
    if (::access(path.c_str(), F_OK) != 0) {
      std::string controller = file.substr(0, file.find('.'));
      throw RuntimeError(
          ErrorKind::unavailable,
          "linux.resources: cannot set " + file + ": the " + controller +
              " controller is not available in the cgroup v2 hierarchy at " + mount_ +
              " (on a hybrid cgroup v1/v2 host it is bound to v1; in the guest the kernel "
              "config lacks it)");
    }
    write_file(path, value);
  }
}

void Cgroup::freeze(bool frozen) {
  std::string file = dir_ + "/cgroup.freeze";
  if (::access(file.c_str(), F_OK) != 0)
    throw RuntimeError(ErrorKind::unavailable,
                       "the cgroup v2 freezer (cgroup.freeze, Linux 5.2+) is missing in " + dir_);
  write_file(file, frozen ? "1" : "0");
  std::string want = frozen ? "frozen 1" : "frozen 0";
  for (int i = 0; i < 500; ++i) {
    auto events = try_read_file(dir_ + "/cgroup.events");
    if (events && events->find(want) != std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  throw RuntimeError(ErrorKind::internal,
                     "cgroup " + dir_ + " did not reach \"" + want + "\" within 1 s");
}

void Cgroup::kill_all() {
  std::string kill_file = dir_ + "/cgroup.kill";
  if (::access(kill_file.c_str(), F_OK) == 0) {
    write_file(kill_file, "1");
    return;
  }
  for (pid_t p : pids()) ::kill(p, SIGKILL);
}

std::vector<pid_t> Cgroup::pids() const {
  std::vector<pid_t> out;
  auto text = try_read_file(dir_ + "/cgroup.procs");
  if (!text) return out;
  for (const std::string& w : words(*text)) out.push_back(static_cast<pid_t>(std::stol(w)));
  return out;
}

uint64_t Cgroup::oom_kills() const {
  auto text = try_read_file(dir_ + "/memory.events");
  if (!text) return 0;
  auto m = flat_keyed(*text);
  return m.count("oom_kill") ? m["oom_kill"] : 0;
}

CgroupStats Cgroup::stats() const {
  CgroupStats s;
  if (auto t = try_read_file(dir_ + "/cpu.stat")) s.cpu = flat_keyed(*t);
  s.memory_current = number_or_max(try_read_file(dir_ + "/memory.current"));
  s.memory_max = number_or_max(try_read_file(dir_ + "/memory.max"));
  s.swap_current = number_or_max(try_read_file(dir_ + "/memory.swap.current"));
  s.swap_max = number_or_max(try_read_file(dir_ + "/memory.swap.max"));
  if (auto t = try_read_file(dir_ + "/memory.stat")) s.memory = flat_keyed(*t);
  if (auto t = try_read_file(dir_ + "/memory.events")) {
    auto events = flat_keyed(*t);
    auto get = [&](const char* key) { return events.count(key) ? events[key] : uint64_t(0); };
    s.memory_events = {get("low"), get("high"), get("max"), get("oom"), get("oom_kill")};
  }
  s.oom_kills = s.memory_events.oom_kill;
  s.pids_current = number_or_max(try_read_file(dir_ + "/pids.current"));
  s.pids_max = number_or_max(try_read_file(dir_ + "/pids.max"));
  if (auto t = try_read_file(dir_ + "/io.stat")) {
    std::istringstream in(*t);
    for (std::string line; std::getline(in, line);) {
      auto w = words(line);
      if (w.empty()) continue;
      CgroupStats::Io io;
      if (std::sscanf(w[0].c_str(), "%u:%u", &io.major, &io.minor) != 2) continue;
      for (size_t k = 1; k < w.size(); ++k) {
        auto eq = w[k].find('=');
        if (eq == std::string::npos) continue;
        std::string key = w[k].substr(0, eq);
        uint64_t v = std::stoull(w[k].substr(eq + 1));
        if (key == "rbytes") io.rbytes = v;
        if (key == "wbytes") io.wbytes = v;
        if (key == "rios") io.rios = v;
        if (key == "wios") io.wios = v;
      }
      s.io.push_back(io);
    }
  }
  return s;
}

bool Cgroup::remove() {
  for (int i = 0; i < 200; ++i) {
    if (::rmdir(dir_.c_str()) == 0 || errno == ENOENT) return true;
    if (errno != EBUSY) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

}  // namespace hull::runtime
