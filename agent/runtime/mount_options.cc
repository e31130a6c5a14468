#include "runtime/mount_options.h"

#include <sys/mount.h>

#include <array>
#include <utility>

namespace hull::runtime {

bool MountOptions::bind() const {
  return (flags & MS_BIND) != 0;
}

MountOptions parse_mount_options(const std::vector<std::string>& options) {
  struct Flag {
    const char* name;
    bool clear;
    unsigned long flag;
  };
  static constexpr std::array<Flag, 24> kFlags{{
      {"ro", false, MS_RDONLY},
      {"rw", true, MS_RDONLY},
      {"nosuid", false, MS_NOSUID},
      {"suid", true, MS_NOSUID},
      {"nodev", false, MS_NODEV},
      {"dev", true, MS_NODEV},
      {"noexec", false, MS_NOEXEC},
      {"exec", true, MS_NOEXEC},
      {"sync", false, MS_SYNCHRONOUS},
      {"async", true, MS_SYNCHRONOUS},
      {"dirsync", false, MS_DIRSYNC},
      {"remount", false, MS_REMOUNT},
      {"mand", false, MS_MANDLOCK},
      {"nomand", true, MS_MANDLOCK},
      {"atime", true, MS_NOATIME},
      {"noatime", false, MS_NOATIME},
      {"diratime", true, MS_NODIRATIME},
      {"nodiratime", false, MS_NODIRATIME},
      {"relatime", false, MS_RELATIME},
      {"norelatime", true, MS_RELATIME},
      {"strictatime", false, MS_STRICTATIME},
      {"nostrictatime", true, MS_STRICTATIME},
      {"bind", false, MS_BIND},
      {"rbind", false, MS_BIND | MS_REC},
  }};
  static constexpr std::array<std::pair<const char*, unsigned long>, 8> kPropagation{{
      {"private", MS_PRIVATE},
      {"rprivate", MS_PRIVATE | MS_REC},
      {"shared", MS_SHARED},
      {"rshared", MS_SHARED | MS_REC},
      {"slave", MS_SLAVE},
      {"rslave", MS_SLAVE | MS_REC},
      {"unbindable", MS_UNBINDABLE},
      {"runbindable", MS_UNBINDABLE | MS_REC},
  }};

  MountOptions out;
  for (const std::string& o : options) {
    bool known = false;
    for (const Flag& f : kFlags) {
      if (o != f.name) continue;
      known = true;
      if (f.clear)
        out.flags &= ~f.flag;
      else
        out.flags |= f.flag;
    }
    for (const auto& [name, p] : kPropagation)
      if (o == name) {
        known = true;
        out.propagation = p;
      }
    if (known) continue;
    if (!out.data.empty()) out.data += ',';
    out.data += o;
  }
  return out;
}

}  // namespace hull::runtime
