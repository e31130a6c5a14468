// Shared by the harnesses: an invariant check that stops the fuzzer (a
// finding, kept as a crash input).
#pragma once

#include <cstdio>

// Not assert(): must hold in every build type.
#define HULL_FUZZ_CHECK(cond, what)                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::fprintf(stderr, "fuzz invariant broken: %s (%s)\n", what, #cond); \
      __builtin_trap();                                                      \
    }                                                                        \
  } while (0)
