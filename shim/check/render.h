// How a Report is shown: one line per check for people, JSON for machines.
#pragma once

#include <string>

#include "check/verdict.h"

namespace hull::check {

std::string RenderText(const Report& report);
std::string RenderJson(const Report& report);

}  // namespace hull::check
