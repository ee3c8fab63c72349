// SPDX-License-Identifier: GPL-2.0-or-later
// What every fuzz target shares. A target is a function of the input bytes
// (fuzz_<name>.cpp); CRUNPP_FUZZ_TARGET makes it libFuzzer's entry point in
// the clang build (-DCRUNPP_LIBFUZZER), while the unit tests link the same
// functions and replay the seed corpora and the committed regressions
// (tests/unit/test_fuzz_replay.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>

namespace crunpp::fuzz {

// A broken promise of the code under test: a crash for libFuzzer, a failed
// test (naming the check) in the replay.
inline void check(bool ok, const char *what) {
    if (ok)
        return;
#ifdef CRUNPP_LIBFUZZER
    (void)what;
    abort();
#else
    throw std::logic_error(what);
#endif
}

int config(const uint8_t *data, size_t size);
int exec_process(const uint8_t *data, size_t size);
int state(const uint8_t *data, size_t size);
int seccomp(const uint8_t *data, size_t size);
int procfs(const uint8_t *data, size_t size);
int dbus(const uint8_t *data, size_t size);

} // namespace crunpp::fuzz

#ifdef CRUNPP_LIBFUZZER
#define CRUNPP_FUZZ_TARGET(fn)                                                                                         \
    extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fn(data, size); }
#else
#define CRUNPP_FUZZ_TARGET(fn)
#endif
