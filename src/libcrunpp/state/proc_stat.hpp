// SPDX-License-Identifier: GPL-2.0-or-later
// /proc/PID/stat, the two fields the state code needs (process.cpp); a
// separate parser so that the tests and the fuzzer can feed it any text.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace crunpp::state::detail {

struct ProcStat {
    char state;          // field 3: R, S, Z, X...
    uint64_t start_time; // field 22: clock ticks since boot
};

// nullopt when the text is not a stat line with those fields.
std::optional<ProcStat> parse_proc_stat(std::string_view line);

} // namespace crunpp::state::detail
