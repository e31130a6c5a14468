#include "jailer/privileges.h"

#include <grp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

#include "jailer/jailer_error.h"

namespace hull::vmm::jailer {

void SetOpenFileLimit(uint64_t nofile) {
  rlimit limit{nofile, nofile};
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) throw JailerError::FromErrno("setrlimit(RLIMIT_NOFILE)", errno);
}

void DropPrivileges(uid_t uid, gid_t gid) {
  if (::setgroups(0, nullptr) != 0) throw JailerError::FromErrno("setgroups(0)", errno);
  if (::setresgid(gid, gid, gid) != 0) throw JailerError::FromErrno("setresgid", errno);
  // The bounding set needs CAP_SETPCAP, so it goes while we still are root.
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      throw JailerError::FromErrno("dropping capability " + std::to_string(cap) + " from the bounding set", errno);
    }
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    throw JailerError::FromErrno("clearing ambient capabilities", errno);
  }
  if (::setresuid(uid, uid, uid) != 0) throw JailerError::FromErrno("setresuid", errno);
  cap_t none = cap_init();  // all three sets empty
  if (none == nullptr) throw JailerError::FromErrno("cap_init", errno);
  const int set = cap_set_proc(none);
  const int set_errno = errno;
  cap_free(none);
  if (set != 0) throw JailerError::FromErrno("cap_set_proc(empty)", set_errno);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw JailerError::FromErrno("PR_SET_NO_NEW_PRIVS", errno);
  // Verify rather than trust: a uid that did not stick is fatal.
  uid_t r, e, s;
  if (::getresuid(&r, &e, &s) != 0 || r != uid || e != uid || s != uid || (uid != 0 && ::setuid(0) == 0)) {
    throw JailerError("the uid switch did not stick: refusing to run the VMM");
  }
}

}  // namespace hull::vmm::jailer
