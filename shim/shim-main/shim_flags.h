// The command line containerd 1.6 gives a runtime v2 shim, parsed with Go's
// `flag` rules (-name value, -name=value, --name, bare -debug; parsing stops
// at the first non-flag argument, the action):
//   start:  -namespace NS -address A -publish-binary B -id ID [-debug] start
//   delete: -namespace NS -address A -publish-binary B -id ID -bundle DIR delete
//   serve:  -namespace NS -id ID -address A [-publish-binary B] [-debug] [-socket P]
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace hull::shim_main {

class ShimUsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ShimFlags {
  std::string namespace_;
  std::string id;
  std::string address;         // containerd's gRPC socket
  std::string publish_binary = "containerd";
  std::string bundle;          // delete: the bundle when it is not the cwd
  std::string socket;          // serve: listen here instead of fd 3
  bool debug = false;
  bool version = false;
  std::string action;          // "start", "delete" or "" (serve)
};

// Throws ShimUsageError naming the bad flag.
ShimFlags ParseShimFlags(const std::vector<std::string>& args);

}  // namespace hull::shim_main
