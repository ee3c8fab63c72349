// SPDX-License-Identifier: GPL-2.0-or-later
#include "process.hpp"
#include "process_internal.hpp"

#include "crunpp/error.hpp"

#include <sys/resource.h>


namespace crunpp::linux {

namespace {

std::string limit_text(uint64_t v) { return v == RLIM64_INFINITY ? "unlimited" : std::to_string(v); }

} // namespace

namespace detail {

void apply_rlimits(const std::vector<spec::Rlimit> &rlimits) {
    for (const auto &rl : rlimits) {
        int resource = rl.resource;
        if (resource < 0) {
            auto r = spec::rlimit_resource_from_name(rl.type);
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
