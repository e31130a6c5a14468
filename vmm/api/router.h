// The API's routing table: (method, path pattern) -> handler. Patterns are
// split at '/'; a segment "{name}" matches any one non-empty segment and is
// passed to the handler as a parameter. Each endpoint lives in its own file
// and adds its routes in all_routes.cc.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/vm_controller.h"

namespace hull::vmm::api {

struct ApiRequest {
  std::string method;  // "GET", "PUT", "PATCH"
  std::string path;    // without the query string
  std::string body;
  std::map<std::string, std::string> params;  // from "{name}" segments
};

struct ApiResponse {
  unsigned status = 204;
  std::optional<nlohmann::json> body;
};

using Handler = std::function<ApiResponse(const ApiRequest&, VmController&)>;

class Router {
 public:
  void Add(std::string method, const std::string& pattern, Handler handler);
  // Never throws: handler errors become fault responses.
  ApiResponse Dispatch(ApiRequest request, VmController& vm) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

// Helpers for handlers.
// The body as JSON; ApiError 400 when empty or malformed.
nlohmann::json ParseJsonBody(const ApiRequest& request);
// ApiError 400 once the VM runs ("only before InstanceStart").
void RequireNotStarted(VmController& vm, const std::string& what);
ApiResponse Fault(unsigned status, const std::string& message);

// Every endpoint's routes (all_routes.cc).
Router MakeRouter();

}  // namespace hull::vmm::api
