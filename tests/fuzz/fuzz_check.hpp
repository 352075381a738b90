#pragma once
// What a fuzz target asserts. An invariant that fails aborts: libFuzzer keeps the input as a
// crash, and the corpus replay (replay_main.cpp) fails its CTest case.
#include <cstdio>
#include <cstdlib>

namespace idemgate::fuzz {

/// Prints the failed invariant and aborts. Never returns.
[[noreturn]] inline void fail(char const* what, char const* file, int line) {
    std::fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, what);
    std::abort();
}

} // namespace idemgate::fuzz

// A macro, so that the message names the condition and its line.
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : ::idemgate::fuzz::fail(#cond, __FILE__, __LINE__))
