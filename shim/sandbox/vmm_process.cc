#include "sandbox/vmm_process.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "sandbox/sandbox_error.h"
#include "sandbox/subprocess.h"
#include "sandbox/unique_fd.h"

namespace hull::shim {
namespace {

bool SocketAccepts(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.string().size() >= sizeof addr.sun_path) return false;
  std::strcpy(addr.sun_path, path.c_str());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return fd && ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

int DecodeStatus(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}


uint64_t Fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// The absolute, lexically normal spelling of a path, without a trailing '/'.
std::string AbsoluteNormal(const std::filesystem::path& path) {
  const auto p = std::filesystem::absolute(path).lexically_normal();
  return (p.has_filename() || p == p.root_path() ? p : p.parent_path()).string();
}

}  // namespace

namespace fs = std::filesystem;

fs::path VmmJail::Root() const { return chroot_base / "hull-vmm" / id / "root"; }

std::string JailIdFor(const fs::path& state_dir) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(Fnv1a(AbsoluteNormal(state_dir))));
  return std::string("vm-") + hex;
}

uid_t JailUidFor(const fs::path& state_dir, const VmmConfinement& confinement) {
  if (confinement.fixed_uid > 0) return static_cast<uid_t>(confinement.fixed_uid);
  return static_cast<uid_t>(0x70000000u + (Fnv1a(AbsoluteNormal(state_dir)) % (1u << 24)));
}

std::optional<VmmJail> JailFor(const RuntimePaths& runtime, const fs::path& state_dir,
                               const std::vector<std::string>& taps, unsigned mem_mib) {
  if (!runtime.confinement.jail) return std::nullopt;
  VmmJail jail;
  jail.jailer_binary = runtime.jailer_binary;
  jail.id = JailIdFor(state_dir);
  jail.uid = JailUidFor(state_dir, runtime.confinement);
  jail.gid = static_cast<gid_t>(jail.uid);
  jail.chroot_base = runtime.confinement.chroot_base.empty() ? fs::path(AbsoluteNormal(state_dir)) / "jail"
                                                             : runtime.confinement.chroot_base;
  jail.files = {AbsoluteNormal(runtime.kernel), AbsoluteNormal(runtime.initrd)};
  jail.taps = taps;
  // Guest RAM plus room for the VMM itself, its threads' stacks and the page
  // cache of the disk images it reads (reclaimable, but charged here).
  jail.memory_max = (static_cast<uint64_t>(mem_mib) + 256) << 20;
  jail.pids_max = 256;  // vCPU, I/O, API and disk worker threads: a few dozen at most
  return jail;
}

std::vector<std::string> ConfinementArgs(const VmmConfinement& confinement) {
  if (confinement.seccomp) return {"--seccomp"};
  return {};
}

std::string CleanUpVmmJail(const fs::path& jailer_binary, const fs::path& chroot_base, const std::string& id) {
  const CommandResult r = RunCommand({jailer_binary.string(), "--cleanup", "--id", id, "--exec-file",
                                      "/hull-vmm", "--chroot-base", chroot_base.string()});
  return r.exit_code == 0 ? std::string() : r.output;
}

void CleanUpLeftoverVmmJail(const fs::path& state_dir) {
  try {
    if (const auto jail = JailFor(DiscoverRuntimePaths(), state_dir, {}, 0)) {
      CleanUpVmmJail(jail->jailer_binary, jail->chroot_base, jail->id);
    }
  } catch (const std::exception&) {
  }
}

VmmProcess::VmmProcess(VmmProcessOptions options) : options_(std::move(options)) {
  if (::access(options_.vmm_binary.c_str(), X_OK) != 0) {
    throw SandboxError("hull-vmm not found or not executable at " + options_.vmm_binary.string() +
                       " (build it, or pass --vmm / set vmm in /etc/hull/config.toml)");
  }
  if (options_.jail && ::access(options_.jail->jailer_binary.c_str(), X_OK) != 0) {
    throw SandboxError("hull-jailer not found or not executable at " + options_.jail->jailer_binary.string() +
                       " (build or install it next to hull-vmm, or set HULL_JAILER=off to run the VMM unconfined)");
  }
  std::error_code ec;
  if (fs::exists(fs::symlink_status(options_.api_socket, ec))) {
    throw SandboxError("API socket " + options_.api_socket.string() +
                       " already exists: another sandbox with this id is running, or a stale one "
                       "was left behind (delete it first)");
  }
  UniqueFd log(::open(options_.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log) {
    throw SandboxError("cannot open the VMM log " + options_.log_file.string() + ": " +
                       std::strerror(errno));
  }

  if (!options_.log_note.empty()) {
    const std::string line = "hull: " + options_.log_note + "\n";
    (void)!::write(log.get(), line.data(), line.size());
  }
  std::vector<std::string> args;
  if (const auto& jail = options_.jail) {
    if (!options_.api_socket.is_absolute()) {
      throw SandboxError("the jailed VMM's API socket needs an absolute path, got " + options_.api_socket.string());
    }
    // No socket of ours is there (checked above), so a jail left for this
    // state directory belongs to a VMM that is gone: clear it first.
    if (fs::exists(jail->Root().parent_path(), ec)) {
      if (auto error = CleanUpVmmJail(jail->jailer_binary, jail->chroot_base, jail->id); !error.empty()) {
        throw SandboxError("a stale jail " + jail->Root().parent_path().string() + " could not be removed: " + error);
      }
    }
    args = {jail->jailer_binary.string(), "--id", jail->id, "--exec-file", AbsoluteNormal(options_.vmm_binary),
            "--uid", std::to_string(jail->uid), "--gid", std::to_string(jail->gid),
            "--chroot-base", jail->chroot_base.string(), "--socket-dir",
            AbsoluteNormal(options_.api_socket.parent_path())};
    for (const auto& f : jail->files) args.insert(args.end(), {"--file", f.string()});
    for (const auto& t : jail->taps) args.insert(args.end(), {"--tap", t});
    for (const auto& d : jail->share_dirs) args.insert(args.end(), {"--share-dir", AbsoluteNormal(d)});
    if (!options_.netns.empty()) args.insert(args.end(), {"--netns", options_.netns});
    if (jail->memory_max) args.insert(args.end(), {"--memory-max", std::to_string(jail->memory_max)});
    if (jail->pids_max) args.insert(args.end(), {"--pids-max", std::to_string(jail->pids_max)});
    if (options_.die_with_parent) args.push_back("--die-with-parent");
    args.push_back("--");
  } else {
    args = {options_.vmm_binary.string()};
  }
  args.insert(args.end(), {"--api-sock", options_.api_socket.string()});
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());

  UniqueFd netns;
  if (!options_.netns.empty() && !options_.jail) {
    netns = UniqueFd(::open(options_.netns.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns) {
      throw SandboxError("cannot open the network namespace " + options_.netns + ": " +
                         std::strerror(errno));
    }
  }
  try {
    if (options_.jail) PrepareSocketPath(options_.api_socket);
    Spawn(args, log.get(), netns.get());
    const auto deadline = std::chrono::steady_clock::now() + options_.ready_timeout;
    while (!SocketAccepts(options_.api_socket)) {
      if (auto status = WaitForExit(std::chrono::milliseconds(0))) {
        std::string tail = LogTail();
        throw SandboxError(std::string(options_.jail ? "hull-vmm (under hull-jailer)" : "hull-vmm") +
                           " exited with status " + std::to_string(*status) + " before its API was ready" +
                           (tail.empty() ? "" : ":\n" + tail));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        throw SandboxError("hull-vmm's API socket " + options_.api_socket.string() +
                           " was not ready in time; log:\n" + LogTail());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  } catch (...) {
    Kill();
    fs::remove(options_.api_socket, ec);
    RemoveJail();
    throw;
  }
}

void VmmProcess::Spawn(const std::vector<std::string>& args_in, int log_fd, int netns_fd) {
  std::vector<std::string> args = args_in;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw SandboxError(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    // Child: only async-signal-safe calls until exec.
    if (options_.die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
    }
    int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) != 0) {
      static constexpr char kMsg[] = "hull-vmm: setns into the pod's network namespace failed\n";
      (void)!::write(2, kMsg, sizeof kMsg - 1);
      ::_exit(126);
    }
    ::setsid();  // own process group: a terminal's ^C goes to the CLI, which stops the VM cleanly
    // Nothing else of ours may leak into the VMM: an inherited ttrpc or gRPC
    // connection would keep containerd talking to a dead shim.
    ::syscall(SYS_close_range, 3u, ~0u, 0u);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
}

VmmProcess::~VmmProcess() {
  Kill();
  std::error_code ec;
  fs::remove(options_.api_socket, ec);
  for (const auto& link : socket_links_) fs::remove(link, ec);
  RemoveJail();
}

void VmmProcess::RemoveJail() {
  if (!options_.jail) return;
  const std::string error = CleanUpVmmJail(options_.jail->jailer_binary, options_.jail->chroot_base, options_.jail->id);
  if (!error.empty()) std::fprintf(stderr, "hull: cleaning up the VMM's jail failed: %s\n", error.c_str());
}

void VmmProcess::PrepareSocketPath(const fs::path& path) {
  std::error_code ec;
  fs::remove(path, ec);
  if (!options_.jail) return;
  const fs::path socket_dir = AbsoluteNormal(options_.api_socket.parent_path());
  if (!path.is_absolute() || fs::path(AbsoluteNormal(path.parent_path())) != socket_dir) {
    throw SandboxError("a jailed VMM can create sockets only in " + socket_dir.string() + ", not at " + path.string());
  }
  const fs::path inside = options_.jail->Root() / fs::path(AbsoluteNormal(path)).relative_path();
  fs::create_symlink(inside, path, ec);
  if (ec) throw SandboxError("cannot link " + path.string() + " to the jail's " + inside.string() + ": " + ec.message());
  socket_links_.insert(path);
}

void VmmProcess::ExposeFile(const fs::path& path_in) {
  if (!options_.jail) return;
  const VmmJail& jail = *options_.jail;
  const fs::path path = AbsoluteNormal(path_in);
  for (const auto& f : jail.files) {
    if (f == path) return;  // bind-mounted by the jailer already
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    throw SandboxError("cannot give the jailed VMM " + path.string() + ": not a regular file");
  }
  // Parents inside the jail: created root-owned, never followed through a
  // symlink (the VMM owns its socket directory and could plant one there).
  fs::path dir = jail.Root();
  for (const auto& part : path.parent_path().relative_path()) {
    dir /= part;
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      throw SandboxError("cannot create " + dir.string() + " in the VMM's jail: " + std::strerror(errno));
    }
    struct stat d {};
    if (::lstat(dir.c_str(), &d) != 0 || !S_ISDIR(d.st_mode)) {
      throw SandboxError(dir.string() + " in the VMM's jail is not a directory: refusing to follow it");
    }
  }
  const fs::path target = dir / path.filename();
  const fs::path staged = dir / ("." + path.filename().string() + ".hull-staged");
  std::error_code ec;
  fs::remove(staged, ec);
  // A hard link shares the file (no copy, no memory); the VMM reads it as
  // "other". A file it could not read, or one on another file system, is
  // copied and the copy handed to the VMM's uid.
  const bool world_readable = (st.st_mode & S_IROTH) != 0;
  if (!world_readable || ::link(path.c_str(), staged.c_str()) != 0) {
    std::error_code copy_ec;
    fs::copy_file(path, staged, copy_ec);
    if (copy_ec || ::chown(staged.c_str(), jail.uid, jail.gid) != 0 || ::chmod(staged.c_str(), 0400) != 0) {
      const std::string why = copy_ec ? copy_ec.message() : std::strerror(errno);
      fs::remove(staged, ec);
      throw SandboxError("cannot place " + path.string() + " in the VMM's jail " + jail.Root().string() + ": " + why);
    }
  }
  if (::rename(staged.c_str(), target.c_str()) != 0) {
    const int err = errno;
    fs::remove(staged, ec);
    throw SandboxError("cannot place " + path.string() + " in the VMM's jail: " + std::strerror(err));
  }
}

std::optional<int> VmmProcess::WaitForExit(std::chrono::milliseconds timeout) {
  if (exit_status_ || pid_ <= 0) return exit_status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_status_ = DecodeStatus(status);
      return exit_status_;
    }
    if (r < 0 && errno != EINTR) {
      exit_status_ = -1;  // not our child any more; nothing to wait for
      return exit_status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void VmmProcess::Kill() {
  if (exit_status_ || pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_status_ = DecodeStatus(status);
}

std::string VmmProcess::LogTail(size_t max_bytes) const {
  std::ifstream in(options_.log_file, std::ios::binary | std::ios::ate);
  if (!in) return {};
  const std::streamoff size = in.tellg();
  const std::streamoff start = size > static_cast<std::streamoff>(max_bytes)
                                   ? size - static_cast<std::streamoff>(max_bytes)
                                   : 0;
  in.seekg(start);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string DescribeVmmExit(std::optional<int> exit_status, const std::string& log_tail) {
  std::string what;
  if (!exit_status) {
    what = "hull-vmm still runs: the guest agent stopped answering";
  } else if (*exit_status > 128) {
    what = "hull-vmm was killed by signal " + std::to_string(*exit_status - 128);
  } else if (*exit_status == 0) {
    what = "hull-vmm exited with status 0 (the guest rebooted, powered off or panicked)";
  } else if (*exit_status < 0) {
    what = "hull-vmm is gone (no exit status: it was reaped elsewhere)";
  } else {
    what = "hull-vmm exited with status " + std::to_string(*exit_status);
  }
  // The console's panic line names the cause; else the log's last line.
  std::string panic_line, last_line;
  std::istringstream lines(log_tail);
  for (std::string line; std::getline(lines, line);) {
    while (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    last_line = line;
    if (line.find("Kernel panic") != std::string::npos) panic_line = line;
  }
  std::string quoted = !panic_line.empty() ? panic_line : last_line.empty() ? "" : "last log line: " + last_line;
  if (quoted.empty()) return what;
  if (quoted.size() > 300) quoted.resize(300);
  // Printable ASCII only: the log holds guest-written console bytes.
  for (char& c : quoted) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  }
  return what + "; " + quoted;
}

}  // namespace hull::shim
