// SPDX-License-Identifier: GPL-2.0-or-later
#define CATCH_CONFIG_MAIN
// g++ 12 with sanitizers reports a maybe-uninitialized inside Catch2's own
// code; it is not ours to fix and must not fail a -Dwerror build.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <catch.hpp>
