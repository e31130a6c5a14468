#include "api/router.h"

#include "api/api_error.h"
#include "config/config_error.h"

namespace hull::vmm::api {
namespace {

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < path.size()) {
    size_t next = path.find('/', at);
    if (next == std::string::npos) next = path.size();
    if (next > at) out.push_back(path.substr(at, next - at));
    at = next + 1;
  }
  return out;
}

bool IsParam(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void Router::Add(std::string method, const std::string& pattern, Handler handler) {
  routes_.push_back({std::move(method), Split(pattern), std::move(handler)});
}

ApiResponse Fault(unsigned status, const std::string& message) {
  return {status, nlohmann::json{{"fault_message", message}}};
}

ApiResponse Router::Dispatch(ApiRequest request, VmController& vm) const {
  const auto segments = Split(request.path);
  bool path_known = false;
  for (const auto& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    std::map<std::string, std::string> params;
    bool match = true;
    for (size_t i = 0; i < segments.size() && match; ++i) {
      if (IsParam(route.segments[i])) {
        params[route.segments[i].substr(1, route.segments[i].size() - 2)] = segments[i];
      } else {
        match = route.segments[i] == segments[i];
      }
    }
    if (!match) continue;
    path_known = true;
    if (route.method != request.method) continue;
    request.params = std::move(params);
    try {
      return route.handler(request, vm);
    } catch (const ApiError& e) {
      return Fault(e.status(), e.what());
    } catch (const config::ConfigError& e) {
      return Fault(400, e.what());
    } catch (const std::exception& e) {
      return Fault(400, e.what());
    }
  }
  if (path_known) return Fault(405, request.method + " is not allowed on " + request.path);
  return Fault(404, "no such resource: " + request.path);
}

nlohmann::json ParseJsonBody(const ApiRequest& request) {
  if (request.body.empty())
    throw ApiError(400, request.method + " " + request.path + " needs a JSON body");
  try {
    return nlohmann::json::parse(request.body);
  } catch (const nlohmann::json::exception& e) {
    // parse_error, and out_of_range for a number no double holds (1e400):
    // either way the body is not JSON hull-vmm can read.
    throw ApiError(400, std::string("malformed JSON body: ") + e.what());
  }
}

void RequireNotStarted(VmController& vm, const std::string& what) {
  if (vm.state() != VmState::kNotStarted) {
    throw ApiError(
        400, what + " can only be changed before InstanceStart; the microVM is already running");
  }
}

}  // namespace hull::vmm::api
