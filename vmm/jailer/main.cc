// hull-jailer: starts hull-vmm confined, as Firecracker's jailer does —
// a per-VM root (pivot_root) holding only what the VMM needs, its own mount
// namespace and cgroup, an unprivileged uid/gid, no capabilities,
// no_new_privs — or, with --cleanup, removes such a jail afterwards.
#include <CLI/CLI.hpp>
#include <iostream>

#include "jailer/jail_options.h"
#include "jailer/jail_runner.h"
#include "jailer/jailer_error.h"

int main(int argc, char** argv) {
  using namespace hull::vmm::jailer;
  JailOptions o;
  bool cleanup = false;
  std::string exec_file;
  std::string chroot_base = o.chroot_base.string();
  std::string cgroup_root = o.cgroup_root.string();
  std::vector<std::string> files, socket_dirs, share_dirs;
  std::string netns;
  CLI::App cli{"hull-jailer: run hull-vmm in a per-VM jail (see docs/security.md)"};
  cli.add_option("--id", o.id, "The VM's id: names <chroot-base>/<exec name>/<id> and the cgroup")->required();
  cli.add_option("--exec-file", exec_file, "The VMM binary (absolute path)")->required();
  cli.add_option("--uid", o.uid, "Unprivileged uid the VMM runs as");
  cli.add_option("--gid", o.gid, "Unprivileged gid the VMM runs as");
  cli.add_flag("--allow-root-ids", o.allow_root, "Accept uid/gid 0 (debugging only)");
  cli.add_option("--chroot-base", chroot_base, "Where jails are made")->capture_default_str();
  cli.add_option("--cgroup-root", cgroup_root, "Where the cgroup file system is mounted")->capture_default_str();
  cli.add_option("--netns", netns, "Network namespace (path) to run the VMM in");
  cli.add_option("--file", files, "A file the VMM may read, bind-mounted read-only at the same path (repeatable)");
  cli.add_option("--socket-dir", socket_dirs, "A directory the VMM may create sockets in, same path (repeatable)");
  cli.add_option("--share-dir", share_dirs,
                 "A shared mount point served over virtio-fs: bound read-write at the same path, receiving the "
                 "host's later mounts below it; gives the VMM /proc/self/fd and file capabilities (repeatable)");
  cli.add_option("--tap", o.taps, "A persistent tap (in --netns) the VMM may attach to (repeatable)");
  cli.add_option("--cpus", o.limits.cpus, "cgroup CPU bandwidth limit, in CPUs (e.g. 1.5)");
  // CLI11 reads "-1" (and numbers past 2^64) into a uint64_t without an error,
  // as 2^64-1: check the text as a number first (found by the bad-input matrix).
  cli.add_option("--memory-max", o.limits.memory_max, "cgroup memory limit, bytes")
      ->check(CLI::Range(0.0, 9.2e18));
  cli.add_option("--pids-max", o.limits.pids_max, "cgroup limit on processes + threads")
      ->check(CLI::Range(0.0, 4194304.0));
  cli.add_option("--nofile", o.nofile, "RLIMIT_NOFILE for the VMM")->check(CLI::Range(0.0, 1073741816.0));
  cli.add_flag("--die-with-parent", o.die_with_parent, "SIGKILL the VMM when the jailer's parent exits");
  cli.add_flag("--cleanup", cleanup, "Remove the jail and cgroup of --id (kills what still runs there)");
  cli.add_option("args", o.exec_args, "Arguments for the VMM, after --");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  o.uid_given = cli.count("--uid") > 0;
  o.gid_given = cli.count("--gid") > 0;
  o.exec_file = exec_file;
  o.chroot_base = chroot_base;
  o.cgroup_root = cgroup_root;
  o.netns = netns;
  for (const auto& f : files) o.files.emplace_back(f);
  for (const auto& d : socket_dirs) o.socket_dirs.emplace_back(d);
  for (const auto& d : share_dirs) o.share_dirs.emplace_back(d);
  try {
    if (cleanup) {
      CleanUpJail(o.chroot_base, o.exec_file, o.id, o.cgroup_root);
      return 0;
    }
    ExecInJail(o);
  } catch (const JailerError& e) {
    std::cerr << "hull-jailer: " << e.what() << "\n";
    return 1;
  }
}
