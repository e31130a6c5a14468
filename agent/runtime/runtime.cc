#include "runtime/runtime.h"

#include <fcntl.h>
#include <sched.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "oci/parse.h"
#include "runtime/error.h"
#include "runtime/files.h"
#include "runtime/hooks.h"
#include "runtime/launcher.h"
#include "runtime/mount_options.h"
#include "runtime/seccomp_filter.h"
#include "runtime/unique_fd.h"
#include "runtime/user_lookup.h"

namespace hull::runtime {

struct Proc {
  std::string exec_id;
  pid_t pid = 0;
  std::shared_ptr<ProcessIo> io;
  std::optional<Launched> pending;  // created, not yet started
};

class Container {
 public:
  std::mutex mu;
  std::string id;
  oci::Spec spec;
  std::string rootfs;
  std::vector<std::string> agent_mounts;  // to unmount on removal, innermost last
  std::string state_dir;                  // removed on removal when non-empty
  std::unique_ptr<Cgroup> cgroup;
  std::shared_ptr<Proc> init;
  std::map<std::string, std::shared_ptr<Proc>> execs;
  bool paused = false;
};

namespace {

int clone_flag(oci::NamespaceType t) {
  switch (t) {
    case oci::NamespaceType::pid:
      return CLONE_NEWPID;
    case oci::NamespaceType::network:
      return CLONE_NEWNET;
    case oci::NamespaceType::mount:
      return CLONE_NEWNS;
    case oci::NamespaceType::ipc:
      return CLONE_NEWIPC;
    case oci::NamespaceType::uts:
      return CLONE_NEWUTS;
    case oci::NamespaceType::user:
      return CLONE_NEWUSER;
    case oci::NamespaceType::cgroup:
      return CLONE_NEWCGROUP;
  }
  return 0;
}

const char* proc_ns_name(oci::NamespaceType t) {
  switch (t) {
    case oci::NamespaceType::pid:
      return "pid";
    case oci::NamespaceType::network:
      return "net";
    case oci::NamespaceType::mount:
      return "mnt";
    case oci::NamespaceType::ipc:
      return "ipc";
    case oci::NamespaceType::uts:
      return "uts";
    case oci::NamespaceType::user:
      return "user";
    case oci::NamespaceType::cgroup:
      return "cgroup";
  }
  return "";
}

std::string id_map_text(const std::vector<oci::IdMapping>& maps) {
  std::string out;
  for (const auto& m : maps)
    out += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
           std::to_string(m.size) + "\n";
  return out;
}

[[noreturn]] void invalid(const std::string& m) {
  throw RuntimeError(ErrorKind::invalid_argument, m);
}

oci::Spec parse_or_throw(const std::string& json) {
  try {
    return oci::parse_spec(json);
  } catch (const oci::SpecError& e) {
    invalid(std::string("config.json: ") + e.what());
  }
}

void mount_or_throw(const std::string& src, const std::string& dst, const std::string& type,
                    unsigned long flags, const std::string& data) {
  if (::mount(src.c_str(), dst.c_str(), type.c_str(), flags,
              data.empty() ? nullptr : data.c_str()) != 0) {
    int err = errno;
    ErrorKind kind =
        err == ENOENT || err == ENXIO || err == ENODEV ? ErrorKind::not_found : ErrorKind::internal;
    throw RuntimeError(kind,
                       "mounting " + src + " (" + type + ") on " + dst + ": " + std::strerror(err));
  }
}

void unmount_all(std::vector<std::string>& mounts) {
  for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
  mounts.clear();
}

// A drive the host swapped in after boot (PATCH /drives/{id}) reaches the
// guest through a config-change interrupt handled asynchronously: waits until
// the device has the image's size, then drops any cached pages of the device
// so nothing of the image it held before is read back.
void settle_block_device(const BlockRootfs& b) {
  UniqueFd fd(::open(b.device.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0)
    throw RuntimeError(ErrorKind::not_found,
                       "rootfs.block.device: opening " + b.device + ": " + std::strerror(errno));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  uint64_t size = 0;
  while (true) {
    if (::ioctl(fd.get(), BLKGETSIZE64, &size) != 0)
      throw RuntimeError(ErrorKind::internal,
                         "rootfs.block.device: size of " + b.device + ": " + std::strerror(errno));
    if (size == b.expected_size_bytes) break;
    if (std::chrono::steady_clock::now() > deadline)
      throw RuntimeError(ErrorKind::internal,
                         "rootfs.block.device: " + b.device + " has " + std::to_string(size) +
                             " bytes, expected " + std::to_string(b.expected_size_bytes) +
                             " after 10 s: the host's drive swap did not reach the guest");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (::ioctl(fd.get(), BLKFLSBUF, 0) != 0)
    throw RuntimeError(ErrorKind::internal,
                       "rootfs.block.device: flushing " + b.device + "'s cache: " + std::strerror(errno));
}

// Mounts a block device rootfs under the container's state dir.
void prepare_block_rootfs(Container& c, const BlockRootfs& b) {
  MountOptions o = parse_mount_options(b.options);
  std::string lower = c.state_dir + "/lower";
  make_dirs(lower, 0700);
  struct stat st {};
  if (::stat(b.device.c_str(), &st) != 0 || !S_ISBLK(st.st_mode))
    throw RuntimeError(ErrorKind::not_found,
                       "rootfs.block.device: " + b.device + " is not a block device in the guest");
  if (b.expected_size_bytes != 0) settle_block_device(b);
  unsigned long flags = o.flags | (b.writable_overlay ? MS_RDONLY : 0);
  mount_or_throw(b.device, lower, b.fstype, flags, o.data);
  c.agent_mounts.push_back(lower);
  if (!b.writable_overlay) {
    c.rootfs = lower;
    return;
  }
  std::string scratch = c.state_dir + "/scratch";
  make_dirs(scratch, 0700);
  mount_or_throw("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700");
  c.agent_mounts.push_back(scratch);
  make_dirs(scratch + "/upper", 0755);
  make_dirs(scratch + "/work", 0700);
  std::string merged = c.state_dir + "/rootfs";
  make_dirs(merged, 0755);
  mount_or_throw(
      "overlay", merged, "overlay", 0,
      "lowerdir=" + lower + ",upperdir=" + scratch + "/upper,workdir=" + scratch + "/work");
  c.agent_mounts.push_back(merged);
  c.rootfs = merged;
}

uint32_t resolve_ids(const oci::Process& p, const std::string& root, uint32_t& gid) {
  gid = p.user.gid;
  if (p.user.username.empty()) return p.user.uid;
  PasswdEntry e = lookup_user(root, p.user.username);
  gid = e.gid;
  return e.uid;
}

std::vector<NetworkCounters> read_net_dev(pid_t pid) {
  std::vector<NetworkCounters> out;
  auto text = try_read_file("/proc/" + std::to_string(pid) + "/net/dev");
  if (!text) return out;
  std::istringstream in(*text);
  std::string line;
  std::getline(in, line);
  std::getline(in, line);  // two header lines
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    NetworkCounters n;
    n.name = line.substr(0, colon);
    n.name.erase(0, n.name.find_first_not_of(' '));
    std::istringstream f(line.substr(colon + 1));
    uint64_t skip;
    f >> n.rx_bytes >> n.rx_packets >> n.rx_errors >> n.rx_dropped >> skip >> skip >> skip >>
        skip >> n.tx_bytes >> n.tx_packets >> n.tx_errors >> n.tx_dropped;
    out.push_back(n);
  }
  return out;
}

bool alive(Reaper& r, const Proc& p) {
  return p.pid > 0 && !r.poll(p.pid);
}

HookState hook_state(const Container& c, const std::string& status) {
  HookState s;
  s.oci_version = c.spec.oci_version;
  s.id = c.id;
  s.status = status;
  s.bundle = std::filesystem::path(c.rootfs).parent_path().string();
  s.pid = c.init ? c.init->pid : 0;
  return s;
}

void warn(const std::string& m) {
  std::fprintf(stderr, "hull-agent: warning: %s\n", m.c_str());
}

}  // namespace

bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > 128 || !std::isalnum(static_cast<unsigned char>(id[0])))
    return false;
  for (char ch : id)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '.' && ch != '-')
      return false;
  return true;
}

Runtime::Runtime(RuntimeConfig config) : config_(std::move(config)) {
  // Container processes are grandchildren: they must be reparented to us.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  if (!config_.cgroup_mount.empty())
    cgroup_mount_ = config_.cgroup_mount;
  else
    cgroup_mount_ = find_cgroup2_mount();
}

Runtime::~Runtime() {
  remove_all();
}

std::shared_ptr<Container> Runtime::find(const std::string& id) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = containers_.find(id);
  if (it == containers_.end())
    throw RuntimeError(ErrorKind::not_found, "no container \"" + id + "\"");
  return it->second;
}

std::shared_ptr<Proc> Runtime::find_process(Container& c, const std::string& exec_id) {
  if (exec_id.empty()) return c.init;
  auto it = c.execs.find(exec_id);
  if (it == c.execs.end())
    throw RuntimeError(ErrorKind::not_found,
                       "no process \"" + exec_id + "\" in container \"" + c.id + "\"");
  return it->second;
}

pid_t Runtime::create(const std::string& id, const std::string& config_json,
                      const RootfsSource& source) {
  if (!valid_id(id))
    invalid("container_id: \"" + id + "\" must match [A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
  auto c = std::make_shared<Container>();
  c->id = id;
  c->spec = parse_or_throw(config_json);
  {
    std::lock_guard<std::mutex> g(mu_);
    if (containers_.count(id))
      throw RuntimeError(ErrorKind::already_exists, "container \"" + id + "\" already exists");
    containers_[id] = c;  // reserves the id; erased again on failure
  }
  std::lock_guard<std::mutex> cg(c->mu);
  try {
    const oci::Spec& spec = c->spec;
    // Rootfs.
    if (source.block) {
      c->state_dir = config_.state_dir + "/containers/" + id;
      make_dirs(c->state_dir, 0700);
      prepare_block_rootfs(*c, *source.block);
    } else {
      c->rootfs = source.directory.empty() ? spec.root_path : source.directory;
      if (c->rootfs.empty())
        invalid("rootfs: neither Rootfs.directory nor config.json root.path is set");
      if (c->rootfs[0] != '/')
        invalid("root.path: \"" + c->rootfs +
                "\" is relative; the agent has no bundle directory, send Rootfs.directory");
      struct stat st {};
      if (::stat(c->rootfs.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw RuntimeError(ErrorKind::not_found,
                           "rootfs: directory " + c->rootfs + " does not exist");
    }

    LaunchPlan plan;
    bool has_mount_ns = false;
    for (size_t i = 0; i < spec.linux.namespaces.size(); ++i) {
      const auto& ns = spec.linux.namespaces[i];
      int flag = clone_flag(ns.type);
      if (ns.type == oci::NamespaceType::mount) {
        if (!ns.path.empty())
          invalid("linux.namespaces[" + std::to_string(i) +
                  "]: joining a mount namespace is not supported; hull builds the container's own");
        has_mount_ns = true;
        plan.unshare_flags |= flag;
        continue;
      }
      if (ns.path.empty()) {
        if (ns.type == oci::NamespaceType::user)
          plan.new_user_ns = true;
        else if (ns.type == oci::NamespaceType::pid)
          plan.new_pid_ns = true;
        else
          plan.unshare_flags |= flag;
        continue;
      }
      UniqueFd fd(::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd)
        throw RuntimeError(ErrorKind::not_found, "linux.namespaces[" + std::to_string(i) +
                                                     "].path: cannot open " + ns.path + ": " +
                                                     std::strerror(errno));
      if (ns.type == oci::NamespaceType::user)
        plan.join_user = std::move(fd);
      else if (ns.type == oci::NamespaceType::pid)
        plan.join_pid = std::move(fd);
      else
        plan.join.emplace_back(flag, std::move(fd));
    }
    if (!has_mount_ns)
      invalid(
          "linux.namespaces: the container needs its own mount namespace (add {\"type\": "
          "\"mount\"})");
    if (!spec.hostname.empty()) {
      if (!(plan.unshare_flags & CLONE_NEWUTS))
        invalid("hostname: setting it needs a new uts namespace in linux.namespaces");
      plan.hostname = spec.hostname;
    }
    plan.uid_map = id_map_text(spec.linux.uid_mappings);
    plan.gid_map = id_map_text(spec.linux.gid_mappings);

    // cgroup.
    bool wants_limits = !resource_files(spec.linux.resources).empty();
    if (cgroup_mount_) {
      std::string path = spec.linux.cgroups_path;
      if (path.empty()) path = "/hull/" + id;
      if (path[0] != '/') path = "/hull/" + path;
      c->cgroup = std::make_unique<Cgroup>(*cgroup_mount_, path);
      c->cgroup->apply(spec.linux.resources);
      plan.cgroup_procs.reset(
          ::open((c->cgroup->dir() + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
      if (!plan.cgroup_procs) throw_errno("opening " + c->cgroup->dir() + "/cgroup.procs");
    } else if (wants_limits) {
      throw RuntimeError(
          ErrorKind::unavailable,
          "linux.resources: no cgroup2 filesystem is mounted, limits cannot be applied");
    }

    if (spec.linux.seccomp) plan.seccomp = compile_seccomp(*spec.linux.seccomp);
    plan.process = spec.process;
    plan.uid = resolve_ids(spec.process, c->rootfs, plan.gid);
    plan.rootfs = RootfsPlan{c->rootfs, &c->spec, hook_state(*c, "creating")};

    auto proc = std::make_shared<Proc>();
    proc->io = std::make_shared<ProcessIo>(spec.process.terminal, plan.stdio);
    Launched l = launch(reaper_, plan);
    if (plan.terminal_master) proc->io->attach_terminal(std::move(plan.terminal_master));
    if (spec.process.terminal && spec.process.console_size)
      proc->io->resize(spec.process.console_size->height, spec.process.console_size->width);
    proc->pid = l.pid();
    proc->pending.emplace(std::move(l));
    c->init = proc;
    run_hooks(reaper_, spec.hooks.create_runtime, hook_state(*c, "creating"), "createRuntime");
    return proc->pid;
  } catch (...) {
    destroy(*c);
    std::lock_guard<std::mutex> g(mu_);
    containers_.erase(id);
    throw;
  }
}

void Runtime::start(const std::string& id) {
  auto c = find(id);
  std::lock_guard<std::mutex> g(c->mu);
  if (!c->init->pending)
    throw RuntimeError(ErrorKind::failed_precondition,
                       "container \"" + id + "\" was already started");
  Launched l = std::move(*c->init->pending);
  c->init->pending.reset();
  l.start();
  try {
    run_hooks(reaper_, c->spec.hooks.poststart, hook_state(*c, "running"), "poststart");
  } catch (const RuntimeError& e) {
    warn(e.what());  // the spec: log, carry on
  }
}

pid_t Runtime::exec(const std::string& id, const std::string& exec_id,
                    const std::string& process_json) {
  if (!valid_id(exec_id))
    invalid("exec_id: \"" + exec_id + "\" must match [A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
  oci::Process process;
  try {
    process = oci::parse_process(process_json);
  } catch (const oci::SpecError& e) {
    invalid(e.what());
  }
  auto c = find(id);
  std::lock_guard<std::mutex> g(c->mu);
  if (c->execs.count(exec_id))
    throw RuntimeError(ErrorKind::already_exists,
                       "exec \"" + exec_id + "\" already exists in container \"" + id + "\"");
  if (c->init->pending)
    throw RuntimeError(ErrorKind::failed_precondition,
                       "container \"" + id + "\" is created but not started; start it first");
  if (auto st = reaper_.poll(c->init->pid))
    throw RuntimeError(ErrorKind::failed_precondition,
                       "container \"" + id + "\" is stopped (its init exited with status " +
                           std::to_string(st->code) + "); cannot exec into it");
  if (c->paused)
    throw RuntimeError(ErrorKind::failed_precondition,
                       "container \"" + id + "\" is paused; resume it first");

  LaunchPlan plan;
  std::string base = "/proc/" + std::to_string(c->init->pid) + "/ns/";
  for (oci::NamespaceType t :
       {oci::NamespaceType::user, oci::NamespaceType::pid, oci::NamespaceType::ipc,
        oci::NamespaceType::uts, oci::NamespaceType::network, oci::NamespaceType::cgroup,
        oci::NamespaceType::mount}) {
    struct stat mine {
    }, theirs{};
    std::string name = proc_ns_name(t);
    if (::stat(("/proc/self/ns/" + name).c_str(), &mine) != 0 ||
        ::stat((base + name).c_str(), &theirs) != 0)
      continue;
    if (mine.st_ino == theirs.st_ino && mine.st_dev == theirs.st_dev) continue;
    UniqueFd fd(::open((base + name).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno("opening " + base + name);
    if (t == oci::NamespaceType::user)
      plan.join_user = std::move(fd);
    else if (t == oci::NamespaceType::pid)
      plan.join_pid = std::move(fd);
    else
      plan.join.emplace_back(clone_flag(t), std::move(fd));
  }
  if (c->cgroup) {
    plan.cgroup_procs.reset(
        ::open((c->cgroup->dir() + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
    if (!plan.cgroup_procs) throw_errno("opening " + c->cgroup->dir() + "/cgroup.procs");
  }
  if (c->spec.linux.seccomp) plan.seccomp = compile_seccomp(*c->spec.linux.seccomp);
  plan.process = process;
  plan.uid = resolve_ids(process, "/proc/" + std::to_string(c->init->pid) + "/root", plan.gid);

  auto proc = std::make_shared<Proc>();
  proc->exec_id = exec_id;
  proc->io = std::make_shared<ProcessIo>(process.terminal, plan.stdio);
  Launched l = launch(reaper_, plan);
  if (plan.terminal_master) proc->io->attach_terminal(std::move(plan.terminal_master));
  if (process.terminal && process.console_size)
    proc->io->resize(process.console_size->height, process.console_size->width);
  proc->pid = l.pid();
  c->execs[exec_id] = proc;
  try {
    l.start();
  } catch (...) {
    reaper_.wait(proc->pid);
    reaper_.forget(proc->pid);
    c->execs.erase(exec_id);
    throw;
  }
  return proc->pid;
}

void Runtime::signal(const std::string& id, const std::string& exec_id, int sig, bool all) {
  if (sig < 1 || sig >= NSIG)
    invalid("signal: " + std::to_string(sig) + " is not a signal number (1.." +
            std::to_string(NSIG - 1) + ")");
  auto c = find(id);
  std::lock_guard<std::mutex> g(c->mu);
  if (all) {
    std::vector<pid_t> pids = c->cgroup ? c->cgroup->pids() : std::vector<pid_t>{};
    if (!c->cgroup) {
      if (alive(reaper_, *c->init)) pids.push_back(c->init->pid);
      for (auto& [_, p] : c->execs)
        if (alive(reaper_, *p)) pids.push_back(p->pid);
    }
    for (pid_t p : pids) ::kill(p, sig);
    return;
  }
  auto p = find_process(*c, exec_id);
  if (!alive(reaper_, *p))
    throw RuntimeError(ErrorKind::failed_precondition, "the process has already exited");
  if (::kill(p->pid, sig) != 0)
    throw_errno("kill(" + std::to_string(p->pid) + ", " + std::to_string(sig) + ")");
}

std::optional<ExitStatus> Runtime::wait(const std::string& id, const std::string& exec_id,
                                        const std::function<bool()>& cancelled) {
  pid_t pid;
  {
    auto c = find(id);
    std::lock_guard<std::mutex> g(c->mu);
    pid = find_process(*c, exec_id)->pid;
  }
  for (;;) {
    if (auto st = reaper_.wait_for(pid, 200)) return st;
    if (cancelled()) return std::nullopt;
  }
}

std::shared_ptr<ProcessIo> Runtime::io(const std::string& id, const std::string& exec_id) {
  auto c = find(id);
  std::lock_guard<std::mutex> g(c->mu);
  return find_process(*c, exec_id)->io;
}

void Runtime::pause(const std::string& id) {
  auto c = find(id);
  std::lock_guard<std::mutex> g(c->mu);
  if (!c->cgroup)
    throw RuntimeError(ErrorKind::unavailable, "container \"" + id + "\" has no cgroup to freeze");
  c->cgroup->freeze(true);
  c->paused = true;
}

void Runtime::resume(const std::string& id) {
  auto c = find(id);
  std::lock_guard<std::mutex> g(c->mu);
  if (!c->cgroup)
    throw RuntimeError(ErrorKind::unavailable, "container \"" + id + "\" has no cgroup to thaw");
  c->cgroup->freeze(false);
  c->paused = false;
}

ContainerStats Runtime::stats(const std::string& id) {
  auto c = find(id);
  std::lock_guard<std::mutex> g(c->mu);
  ContainerStats s;
  if (c->cgroup) s.cgroup = c->cgroup->stats();
  if (alive(reaper_, *c->init)) s.network = read_net_dev(c->init->pid);
  return s;
}

void Runtime::update(const std::string& id, const std::string& resources_json) {
  oci::Resources r;
  try {
    r = oci::parse_resources(resources_json);
  } catch (const oci::SpecError& e) {
    invalid(e.what());
  }
  auto c = find(id);
  std::lock_guard<std::mutex> g(c->mu);
  if (!c->cgroup)
    throw RuntimeError(ErrorKind::unavailable, "container \"" + id + "\" has no cgroup to update");
  c->cgroup->apply(r);
}

std::vector<ProcessEntry> Runtime::processes(const std::string& id) {
  auto c = find(id);
  std::lock_guard<std::mutex> g(c->mu);
  std::vector<pid_t> pids;
  if (c->cgroup) {
    pids = c->cgroup->pids();
  } else {
    if (alive(reaper_, *c->init)) pids.push_back(c->init->pid);
    for (auto& [_, p] : c->execs)
      if (alive(reaper_, *p)) pids.push_back(p->pid);
  }
  std::vector<ProcessEntry> out;
  for (pid_t p : pids) {
    ProcessEntry e;
    e.pid = p;
    std::string dir = "/proc/" + std::to_string(p);
    if (auto stat = try_read_file(dir + "/stat")) {
      size_t close = stat->rfind(')');
      if (close != std::string::npos) {
        std::istringstream in(stat->substr(close + 2));
        std::string state;
        in >> state >> e.ppid;
      }
    }
    if (auto cmd = try_read_file(dir + "/cmdline")) {
      for (char& ch : *cmd)
        if (ch == '\0') ch = ' ';
      while (!cmd->empty() && cmd->back() == ' ') cmd->pop_back();
      e.command = *cmd;
    }
    out.push_back(e);
  }
  return out;
}

std::map<std::string, uint64_t> Runtime::oom_counters() {
  std::vector<std::shared_ptr<Container>> all;
  {
    std::lock_guard<std::mutex> g(mu_);
    for (auto& [_, c] : containers_) all.push_back(c);
  }
  std::map<std::string, uint64_t> out;
  for (auto& c : all) {
    std::lock_guard<std::mutex> g(c->mu);
    if (c->cgroup) out[c->id] = c->cgroup->oom_kills();
  }
  return out;
}

std::vector<std::string> Runtime::ids() {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<std::string> out;
  for (auto& [id, _] : containers_) out.push_back(id);
  return out;
}

void Runtime::destroy(Container& c) {
  std::vector<pid_t> procs;
  if (c.init && c.init->pid > 0) procs.push_back(c.init->pid);
  for (auto& [_, p] : c.execs) procs.push_back(p->pid);
  if (c.paused && c.cgroup) {
    try {
      c.cgroup->freeze(false);
    } catch (const RuntimeError&) {
    }
  }
  if (c.cgroup) {
    try {
      c.cgroup->kill_all();
    } catch (const RuntimeError&) {
    }
  }
  for (pid_t p : procs) {
    if (!reaper_.poll(p)) ::kill(p, SIGKILL);
    reaper_.wait_for(p,
                     10000);  // SIGKILL cannot be ignored; this only guards against a stuck D state
    reaper_.forget(p);
  }
  bool was_created = c.init && c.init->pid > 0;
  if (c.init) c.init->pending.reset();
  if (was_created) {
    try {
      run_hooks(reaper_, c.spec.hooks.poststop, hook_state(c, "stopped"), "poststop");
    } catch (const RuntimeError& e) {
      warn(e.what());
    }
  }
  if (c.cgroup) c.cgroup->remove();
  unmount_all(c.agent_mounts);
  if (!c.state_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(c.state_dir, ec);
  }
}

void Runtime::remove(const std::string& id, bool force) {
  std::shared_ptr<Container> c;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = containers_.find(id);
    if (it == containers_.end()) {
      if (force) return;
      throw RuntimeError(ErrorKind::not_found, "no container \"" + id + "\"");
    }
    c = it->second;
  }
  {
    std::lock_guard<std::mutex> g(c->mu);
    destroy(*c);
  }
  std::lock_guard<std::mutex> g(mu_);
  containers_.erase(id);
}

void Runtime::remove_all() {
  for (const std::string& id : ids()) remove(id, true);
}

}  // namespace hull::runtime
