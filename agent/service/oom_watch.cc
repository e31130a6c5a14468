#include "service/oom_watch.h"

namespace hull::service {

std::vector<std::string> take_new_oom_events(std::map<std::string, uint64_t>& seen,
                                             std::map<std::string, uint64_t> now) {
  std::vector<std::string> events;
  for (const auto& [id, kills] : now) {
    auto it = seen.find(id);
    uint64_t before = it == seen.end() ? 0 : it->second;
    for (uint64_t k = before; k < kills; ++k) events.push_back(id);
  }
  seen = std::move(now);
  return events;
}

}  // namespace hull::service
