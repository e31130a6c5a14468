// hull-jailer's two modes: build the jail and exec the VMM in it, or clean
// a jail (and its cgroup) up after the VMM has gone.
#pragma once

#include <filesystem>
#include <string>

#include "jailer/jail_options.h"

namespace hull::vmm::jailer {

// Builds the jail, confines this process and execs options.exec_file with
// options.exec_args. Returns only by throwing JailerError; what it created
// before entering the jail is removed again. After pivot_root it cannot see
// the host any more: a failure from there on leaves the jail for
// CleanUpJail, which the caller runs once the process has exited (the shim
// always does).
[[noreturn]] void ExecInJail(const JailOptions& options);

// Kills what still runs in the VM's cgroup, removes the cgroup and the jail
// directory. A jail that is not there is fine (idempotent).
void CleanUpJail(const std::filesystem::path& chroot_base, const std::filesystem::path& exec_file,
                 const std::string& id, const std::filesystem::path& cgroup_root);

}  // namespace hull::vmm::jailer
