// What hull-agent does first when it is the guest's init (PID 1).
#pragma once

#include <string>

namespace hull::agent {

// Physical address of the boot marker (DESIGN.md): hull-vmm logs when the
// byte 123 lands there.
#if defined(__aarch64__)
constexpr unsigned long kBootMarkerAddress = 0x40000000UL;
#else
constexpr unsigned long kBootMarkerAddress = 0xd0000000UL;
#endif
constexpr unsigned char kBootMarkerValue = 123;

// True when / is the kernel's initramfs (ramfs/tmpfs rootfs), as in a guest.
bool root_is_initramfs();

// Writes the marker through /dev/mem (needs CONFIG_DEVMEM; a node is made
// for the purpose if devtmpfs is not mounted yet). Returns "" or the reason it
// could not.
std::string write_boot_marker();

// Moves / off the initramfs onto a tmpfs (pivot_root refuses rootfs), mounts
// proc, sys, dev, devpts, shm, run and cgroup2 (and lowers the free page
// reporting order to 2 MiB), gives the console to fds 0-2,
// brings lo up. Problems that leave the guest usable are logged; throws
// std::runtime_error when the guest cannot work at all.
void init_guest();

// sync + reboot(RB_AUTOBOOT): hull-vmm treats the guest's reboot as a clean stop.
[[noreturn]] void power_off();

}  // namespace hull::agent
