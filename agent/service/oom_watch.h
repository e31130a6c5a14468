// GetOOMEvents' bookkeeping: which containers had new OOM kills since the last poll.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace hull::service {

// One container id per oom_kill counted in `now` beyond what `seen` held for
// it, in id order. `seen` becomes `now`: removed containers are forgotten, so
// a long-lived stream does not keep an entry per container ever run.
std::vector<std::string> take_new_oom_events(std::map<std::string, uint64_t>& seen,
                                             std::map<std::string, uint64_t> now);

}  // namespace hull::service
