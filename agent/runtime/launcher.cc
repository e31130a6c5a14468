#include "runtime/launcher.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>

#include "runtime/child_setup.h"
#include "runtime/exec_lookup.h"
#include "runtime/error.h"
#include "runtime/files.h"

namespace hull::runtime {
namespace {

// Messages on the sync socket. Child -> agent: 'U' (write my id maps),
// 'P'<pid> (the process), 'R' (ready), 'E'<kind digit><message>.
// Agent -> child: 'M' (maps written), 'A' (pid registered), 'S' (start).
void send_msg(int fd, const std::string& m) {
  while (::send(fd, m.data(), m.size(), MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

// "" on end of file (the peer is gone). A passed descriptor lands in *passed.
std::string recv_msg(int fd, UniqueFd* passed = nullptr) {
  char buf[8192];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  for (;;) {
    iovec iov{buf, sizeof buf};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return "";
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      int received;
      std::memcpy(&received, CMSG_DATA(c), sizeof received);
      if (passed)
        passed->reset(received);
      else
        ::close(received);
    }
    return std::string(buf, static_cast<size_t>(n));
  }
}

void send_fd(int sock, const std::string& m, int fd) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{const_cast<char*>(m.data()), m.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  if (::sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) throw_errno("passing the pty master to the agent");
}

// The pty is made inside the container's own devpts (so ttyname() works
// there); the agent gets the master, the process the slave as stdio.
void make_terminal(LaunchPlan& plan, int sync) {
  UniqueFd master(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master)
    throw RuntimeError(ErrorKind::invalid_argument,
                       std::string("process.terminal: cannot open /dev/ptmx in the container (") +
                           std::strerror(errno) + "); mount devpts at /dev/pts with ptmxmode=0666");
  if (::unlockpt(master.get()) != 0) throw_errno("unlockpt");
  UniqueFd slave(::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) throw_errno("TIOCGPTPEER");
  send_fd(sync, "T", master.get());
  plan.stdio.in.reset(::fcntl(slave.get(), F_DUPFD_CLOEXEC, 3));
  plan.stdio.out.reset(::fcntl(slave.get(), F_DUPFD_CLOEXEC, 3));
  plan.stdio.err = std::move(slave);
}

[[noreturn]] void child_fail(int sync, const RuntimeError& e) {
  send_msg(sync, std::string("E") + char('0' + static_cast<int>(e.kind())) + e.what());
  ::_exit(126);
}

void expect_msg(int sync, char want) {
  std::string m = recv_msg(sync);
  if (m.empty() || m[0] != want) ::_exit(125);  // the agent gave up on us
}

// Closes every descriptor but the ones the child still needs, so a process
// waiting for start never holds other containers' pipes or sockets open.
void close_other_fds(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned next = 3;
  for (int fd : keep) {
    if (fd < 3) continue;
    if (static_cast<unsigned>(fd) > next)
      ::syscall(SYS_close_range, next, static_cast<unsigned>(fd) - 1, 0);
    next = static_cast<unsigned>(fd) + 1;
  }
  ::syscall(SYS_close_range, next, ~0U, 0);
}

void do_setns(int fd, int type, const char* what) {
  if (::setns(fd, type) != 0) throw_errno(std::string("joining the ") + what + " namespace");
}

// The container process: namespaces, rootfs, stdio; ready; wait; exec.
[[noreturn]] void process_main(LaunchPlan& plan, int sync) {
  try {
    for (auto& [type, fd] : plan.join) {
      if (type == CLONE_NEWNS) continue;  // last: it changes what paths mean
      do_setns(fd.get(), type, "requested");
    }
    if (plan.unshare_flags && ::unshare(plan.unshare_flags) != 0)
      throw_errno("unshare of the container namespaces");
    for (auto& [type, fd] : plan.join)
      if (type == CLONE_NEWNS) do_setns(fd.get(), type, "mount");
    if (plan.rootfs) child::setup_rootfs(*plan.rootfs);
    if (!plan.hostname.empty() && ::sethostname(plan.hostname.data(), plan.hostname.size()) != 0)
      throw_errno("sethostname");
    if (plan.stdio.terminal) make_terminal(plan, sync);
    child::setup_stdio(plan);
    // As runc: a missing program fails create (Docker's 127), not start.
    const oci::Process& p = plan.process;
    if (auto err = find_executable_error(p.args.empty() ? std::string() : p.args[0], p.env, p.cwd))
      throw RuntimeError(ErrorKind::invalid_argument, *err);
  } catch (const RuntimeError& e) {
    child_fail(sync, e);
  }
  send_msg(sync, "R");
  expect_msg(sync, 'S');
  try {
    child::finish_and_exec(plan);
  } catch (const RuntimeError& e) {
    child_fail(sync, e);
  }
}

// The intermediate child: cgroup, user and pid namespaces, then the fork.
[[noreturn]] void intermediate_main(LaunchPlan& plan, int sync) {
  std::vector<int> keep{sync,
                        plan.stdio.in.get(),
                        plan.stdio.out.get(),
                        plan.stdio.err.get(),
                        plan.cgroup_procs.get(),
                        plan.join_user.get(),
                        plan.join_pid.get()};
  for (auto& j : plan.join) keep.push_back(j.second.get());
  close_other_fds(keep);
  try {
    if (plan.cgroup_procs && ::write(plan.cgroup_procs.get(), "0", 1) != 1)
      throw_errno("joining the container cgroup");
    plan.cgroup_procs.reset();
    if (plan.join_user) do_setns(plan.join_user.get(), CLONE_NEWUSER, "user");
    if (plan.new_user_ns) {
      if (::unshare(CLONE_NEWUSER) != 0) throw_errno("unshare(CLONE_NEWUSER)");
      send_msg(sync, "U");
      expect_msg(sync, 'M');
    }
    if (plan.new_user_ns || plan.join_user) {
      if (::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0)
        throw_errno("becoming root in the user namespace (is 0 mapped?)");
    }
    if (plan.join_pid) do_setns(plan.join_pid.get(), CLONE_NEWPID, "pid");
    if (plan.new_pid_ns && ::unshare(CLONE_NEWPID) != 0) throw_errno("unshare(CLONE_NEWPID)");
  } catch (const RuntimeError& e) {
    child_fail(sync, e);
  }
  // The container process shares `sync` with us: it may speak ("R") only once
  // the agent has our "P<pid>" and we have read its "A", else its "R" can
  // overtake our "P" (the agent would take pid 0) or it can read our "A" (and
  // the agent's "S" reach us). So it waits at a gate we open on our way out.
  int gate[2];
  if (::pipe2(gate, O_CLOEXEC) != 0)
    child_fail(sync, RuntimeError(ErrorKind::internal, std::string("pipe: ") + std::strerror(errno)));
  pid_t p = ::fork();
  if (p < 0)
    child_fail(sync,
               RuntimeError(ErrorKind::internal, std::string("fork: ") + std::strerror(errno)));
  if (p == 0) {
    ::close(gate[1]);
    char go = 0;
    ssize_t n;
    while ((n = ::read(gate[0], &go, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1 || go != 'G') ::_exit(125);  // we gave up: the agent kills and reaps it
    ::close(gate[0]);
    process_main(plan, sync);
  }
  ::close(gate[0]);
  send_msg(sync, "P" + std::to_string(p));
  expect_msg(sync, 'A');
  while (::write(gate[1], "G", 1) < 0 && errno == EINTR) {
  }
  ::_exit(0);
}

[[noreturn]] void throw_child_error(const std::string& m) {
  int kind = m.size() > 1 ? m[1] - '0' : static_cast<int>(ErrorKind::internal);
  if (kind < 0 || kind > static_cast<int>(ErrorKind::internal))
    kind = static_cast<int>(ErrorKind::internal);
  throw RuntimeError(static_cast<ErrorKind>(kind),
                     m.size() > 2 ? m.substr(2) : "container process failed");
}

}  // namespace

Launched launch(Reaper& reaper, LaunchPlan& plan) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) throw_errno("socketpair");
  UniqueFd ours(sv[0]), theirs(sv[1]);

  pid_t intermediate;
  {
    auto held = reaper.lock();
    intermediate = ::fork();
    if (intermediate < 0) throw_errno("fork");
    if (intermediate == 0) {
      ours.reset();
      intermediate_main(plan, theirs.get());
    }
    reaper.expect(intermediate, held);
  }
  theirs.reset();
  // The agent's copies of the child's stdio ends are not needed any more.
  plan.stdio.in.reset();
  plan.stdio.out.reset();
  plan.stdio.err.reset();

  pid_t pid = 0;
  bool intermediate_reaped = false;
  auto give_up = [&] {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      reaper.wait(pid);
      reaper.forget(pid);
    }
    if (!intermediate_reaped) {
      ::kill(intermediate, SIGKILL);
      reaper.wait(intermediate);
      reaper.forget(intermediate);
    }
  };
  try {
    for (;;) {
      UniqueFd fd;
      std::string m = recv_msg(ours.get(), &fd);
      if (m.empty()) {
        ExitStatus st = reaper.wait(pid > 0 ? pid : intermediate);
        throw RuntimeError(ErrorKind::internal, "the container process exited (status " +
                                                    std::to_string(st.code) +
                                                    ") before it was ready");
      }
      if (m[0] == 'E') throw_child_error(m);
      if (m[0] == 'U') {
        write_file("/proc/" + std::to_string(intermediate) + "/uid_map", plan.uid_map);
        write_file("/proc/" + std::to_string(intermediate) + "/gid_map", plan.gid_map);
        send_msg(ours.get(), "M");
      } else if (m[0] == 'P') {
        pid = static_cast<pid_t>(std::stol(m.substr(1)));
        reaper.expect(pid);
        send_msg(ours.get(), "A");
        reaper.wait(intermediate);
        reaper.forget(intermediate);
        intermediate_reaped = true;
      } else if (m[0] == 'T') {
        if (!fd)
          throw RuntimeError(ErrorKind::internal, "the container process sent no pty master");
        plan.terminal_master = std::move(fd);
      } else if (m[0] == 'R') {
        if (pid <= 0)  // the intermediate's gate orders "P" first; never track pid 0
          throw RuntimeError(ErrorKind::internal, "the container process was ready before its pid was known");
        break;
      }
    }
  } catch (...) {
    give_up();
    throw;
  }
  return Launched(pid, std::move(ours));
}

void Launched::start() {
  if (!sync_) throw RuntimeError(ErrorKind::failed_precondition, "the process was already started");
  send_msg(sync_.get(), "S");
  std::string m = recv_msg(sync_.get());
  sync_.reset();
  if (!m.empty() && m[0] == 'E') throw_child_error(m);
}

}  // namespace hull::runtime
