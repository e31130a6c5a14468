#include "io/open_file_limit.h"

namespace hull::vmm::io {

rlimit RaisedOpenFileLimit(rlimit limit) {
  limit.rlim_cur = limit.rlim_max;
  return limit;
}

rlim_t RaiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  const rlimit raised = RaisedOpenFileLimit(limit);
  if (raised.rlim_cur == limit.rlim_cur || ::setrlimit(RLIMIT_NOFILE, &raised) != 0) return limit.rlim_cur;
  return raised.rlim_cur;
}

}  // namespace hull::vmm::io
