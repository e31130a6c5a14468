#include "jailer/privileges.h"

#include <grp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "jailer/jailer_error.h"

namespace hull::vmm::jailer {

void SetOpenFileLimit(uint64_t nofile) {
  rlimit limit{nofile, nofile};
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) throw JailerError::FromErrno("setrlimit(RLIMIT_NOFILE)", errno);
}

std::vector<int> ShareCapabilities() { return {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER}; }

void DropPrivileges(uid_t uid, gid_t gid, const std::vector<int>& kept) {
  auto is_kept = [&](int cap) { return std::find(kept.begin(), kept.end(), cap) != kept.end(); };
  if (::setgroups(0, nullptr) != 0) throw JailerError::FromErrno("setgroups(0)", errno);
  if (::setresgid(gid, gid, gid) != 0) throw JailerError::FromErrno("setresgid", errno);
  // The bounding set needs CAP_SETPCAP, so it goes while we still are root.
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (is_kept(cap)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      throw JailerError::FromErrno("dropping capability " + std::to_string(cap) + " from the bounding set", errno);
    }
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    throw JailerError::FromErrno("clearing ambient capabilities", errno);
  }
  // Kept capabilities stay permitted across the uid switch only with KEEPCAPS.
  if (!kept.empty() && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) throw JailerError::FromErrno("PR_SET_KEEPCAPS", errno);
  if (::setresuid(uid, uid, uid) != 0) throw JailerError::FromErrno("setresuid", errno);
  cap_t caps = cap_init();  // all three sets empty
  if (caps == nullptr) throw JailerError::FromErrno("cap_init", errno);
  std::vector<cap_value_t> values(kept.begin(), kept.end());
  int set = 0;
  if (!values.empty()) {
    for (cap_flag_t flag : {CAP_PERMITTED, CAP_EFFECTIVE, CAP_INHERITABLE}) {
      if (set == 0) set = cap_set_flag(caps, flag, static_cast<int>(values.size()), values.data(), CAP_SET);
    }
  }
  if (set == 0) set = cap_set_proc(caps);
  const int set_errno = errno;
  cap_free(caps);
  if (set != 0) throw JailerError::FromErrno("cap_set_proc(the kept capabilities only)", set_errno);
  if (!kept.empty() && ::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) throw JailerError::FromErrno("PR_SET_KEEPCAPS off", errno);
  for (int cap : kept) {
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
      throw JailerError::FromErrno("raising ambient capability " + std::to_string(cap), errno);
    }
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw JailerError::FromErrno("PR_SET_NO_NEW_PRIVS", errno);
  // Verify rather than trust: a uid that did not stick is fatal.
  uid_t r, e, s;
  if (::getresuid(&r, &e, &s) != 0 || r != uid || e != uid || s != uid || (uid != 0 && ::setuid(0) == 0)) {
    throw JailerError("the uid switch did not stick: refusing to run the VMM");
  }
}

}  // namespace hull::vmm::jailer
