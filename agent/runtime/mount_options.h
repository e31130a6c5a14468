// Turns mount(8)-style option lists ("ro", "nosuid", "rbind", "mode=755") into
// the flags, propagation and data string that mount(2) takes.
#pragma once

#include <string>
#include <vector>

namespace hull::runtime {

struct MountOptions {
  unsigned long flags = 0;        // MS_RDONLY, MS_NOSUID, ... (MS_BIND|MS_REC for rbind)
  unsigned long propagation = 0;  // MS_PRIVATE/MS_SHARED/MS_SLAVE/MS_UNBINDABLE, maybe | MS_REC
  std::string data;               // everything mount(2) does not know as a flag, comma-joined
  bool bind() const;
};

MountOptions parse_mount_options(const std::vector<std::string>& options);

}  // namespace hull::runtime
