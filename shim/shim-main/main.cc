// containerd-shim-hull-v2: containerd's runtime v2 shim for hull
// (runtime type io.containerd.hull.v2). containerd runs it with `start`,
// `delete`, or no action (serve); see commands.h.
#include <malloc.h>
#include <sys/prctl.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "shim-main/commands.h"
#include "shim-main/shim_flags.h"

namespace {

// One shim lives as long as its pod, mostly idle, so its heap is what it
// costs (docs/benchmarks.md, per-pod memory). Set before any thread starts.
void KeepTheHeapSmall() {
  // One malloc arena: glibc would give each new thread (ttrpc handlers,
  // gRPC, stdio copiers) its own, each a separate heap that is never
  // returned; the shim's allocations are few and not contended.
  mallopt(M_ARENA_MAX, 1);
  // No transparent huge pages for the shim: with THP "always" its heap and
  // every thread stack would be backed in 2 MiB pages it barely touches.
  // hull-vmm inherits the flag and clears it for itself (guest RAM wants
  // huge pages).
  prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace hull::shim_main;
  KeepTheHeapSmall();
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    ShimFlags flags = ParseShimFlags(args);
    if (flags.version) {
      std::cout << "containerd-shim-hull-v2:\n  Version:  0.1.0\n  Runtime:  io.containerd.hull.v2\n";
      return 0;
    }
    if (flags.namespace_.empty()) throw ShimUsageError("shim namespace cannot be empty (pass -namespace)");
    if (flags.action == "start") {
      ShimEnvironment env;
      std::error_code ec;
      auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
      if (!ec) env.self_exe = self.string();  // so ps shows the real program
      return RunStart(flags, env, std::cout);
    }
    if (flags.action == "delete") return RunDelete(flags, std::cout);
    if (flags.action.empty()) return RunServe(flags);
    throw ShimUsageError("unknown action '" + flags.action + "' (containerd uses start, delete, or none to serve)");
  } catch (const ShimUsageError& e) {
    std::cerr << "containerd-shim-hull-v2: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "containerd-shim-hull-v2: " << e.what() << "\n";
    return 1;
  }
}
