// The shim's view of its mount table (/proc/self/mountinfo), for taking down
// what a sandbox mounted below its state directory before that directory is
// removed: a recursive removal that walked into a still-mounted container
// rootfs or hostPath volume would delete the image's or the user's files.
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

namespace hull::vm_sandbox {

// The mount points at or below `dir` in `mountinfo` (the text of a
// /proc/<pid>/mountinfo; octal escapes undone), deepest and latest first: the
// order to unmount them in. A path that merely starts with dir's name
// ("/a/bc" for "/a/b") is not below it.
std::vector<std::filesystem::path> MountPointsBelow(std::string_view mountinfo, const std::filesystem::path& dir);

// Detaches (umount2 MNT_DETACH) every mount at or below `dir` in the shim's
// mount namespace; returns those still mounted afterwards (none normally).
std::vector<std::filesystem::path> DetachMountsBelow(const std::filesystem::path& dir);

}  // namespace hull::vm_sandbox
