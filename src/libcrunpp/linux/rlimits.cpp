// SPDX-License-Identifier: GPL-2.0-or-later
#include "process.hpp"
#include "process_internal.hpp"

#include "crunpp/error.hpp"

#include <sys/resource.h>

#include <array>
#include <utility>

namespace crunpp::linux {

namespace {

constexpr std::array<std::pair<std::string_view, int>, 16> kRlimits = {{
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
}};

std::string limit_text(uint64_t v) { return v == RLIM64_INFINITY ? "unlimited" : std::to_string(v); }

} // namespace

std::optional<int> rlimit_from_name(std::string_view name) {
    for (const auto &[n, r] : kRlimits)
        if (n == name)
            return r;
    return std::nullopt;
}

namespace detail {

void apply_rlimits(const std::vector<spec::Rlimit> &rlimits) {
    for (const auto &rl : rlimits) {
        int resource = rl.resource;
        if (resource < 0) {
            auto r = rlimit_from_name(rl.type);
            if (!r)
                throw Error("unknown rlimit type \"" + rl.type + "\"");
            resource = *r;
        }
        struct rlimit64 value = {rl.soft, rl.hard};
        if (prlimit64(0, static_cast<__rlimit_resource>(resource), &value, nullptr) < 0)
            throw_errno("setrlimit " + rl.type + " (soft " + limit_text(rl.soft) + ", hard " + limit_text(rl.hard) +
                        ")");
    }
}

} // namespace detail
} // namespace crunpp::linux
