#include "check/render.h"

#include <nlohmann/json.hpp>

namespace hull::check {

std::string RenderText(const Report& report) {
  std::string out;
  for (const auto& c : report.checks) {
    std::string status = StatusName(c.status);
    status.resize(5, ' ');
    out += status + c.id + ": " + c.detail + (c.required ? "" : " [optional]") + "\n";
    if (!c.fix.empty()) out += "     -> " + c.fix + "\n";
  }
  out += report.kvm_usable
             ? std::string("KVM is usable: hull can run microVMs directly on this ") + ArchName(report.arch) +
                   " host\n"
             : "KVM is NOT usable here for microVMs; run hull inside tools/nested-run (see the FAIL lines)\n";
  return out;
}

std::string RenderJson(const Report& report) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : report.checks) {
    nlohmann::json j = {{"id", c.id}, {"required", c.required}, {"status", StatusName(c.status)}, {"detail", c.detail}};
    if (!c.fix.empty()) j["fix"] = c.fix;
    checks.push_back(std::move(j));
  }
  const nlohmann::json doc = {{"arch", ArchName(report.arch)}, {"kvm_usable", report.kvm_usable}, {"checks", checks}};
  return doc.dump(2) + "\n";
}

}  // namespace hull::check
