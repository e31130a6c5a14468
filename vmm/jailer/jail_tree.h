// The host side of a jail: the directory tree under <jail_dir>/root that
// the VMM will see as "/" — placeholders for the bind-mounted files, device
// nodes, the VMM's own socket directories. Nothing here mounts anything.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <vector>

#include "jailer/jail_layout.h"

namespace hull::vmm::jailer {

// Creates <jail_dir> and an empty <jail_dir>/root; fails if the jail exists
// (a VM with this id runs, or one was not cleaned up: run --cleanup).
void CreateJailDir(const JailLayout& layout);

// An empty regular file at InRoot(path), parents created root-owned 0755:
// the mount point a bind mount of `path` covers.
void CreatePlaceholder(const JailLayout& layout, const std::filesystem::path& path);

// An empty directory at InRoot(path), root-owned 0755 like its parents: the
// mount point a bind mount of the directory `path` covers.
void CreateMountPointDir(const JailLayout& layout, const std::filesystem::path& path);

// A directory at InRoot(path) owned by uid:gid, mode 0700 (its parents root-owned 0755).
void CreateOwnedDir(const JailLayout& layout, const std::filesystem::path& path, uid_t uid, gid_t gid);

// A character device at InRoot(node) with the same device number as the
// host's `node`, owned by uid:gid, mode 0600. Needs CAP_MKNOD.
void CreateDeviceNode(const JailLayout& layout, const std::filesystem::path& node, uid_t uid, gid_t gid);

}  // namespace hull::vmm::jailer
