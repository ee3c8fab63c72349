// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the config.json parser. Any input must end in a
// Config or a crunpp::Error; a Config must hold what the parser promises
// (checked below), anything else (crash, hang, leak, UB) is a bug.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "crunpp/error.hpp"
#include "crunpp/spec.hpp"
#include "fuzz.hpp"

namespace {

using namespace crunpp::spec;

void check(bool ok) { crunpp::fuzz::check(ok, "config: a parsed config breaks an invariant"); }

void check_process(const Process &p) {
    check(!p.cwd.empty() && p.cwd[0] == '/');
    check(!p.args.empty());
    for (const auto &e : p.env)
        check(e.find('=') != std::string::npos && e[0] != '=');
    for (size_t i = 0; i < p.rlimits.size(); i++) {
        check(p.rlimits[i].resource >= 0 && p.rlimits[i].soft <= p.rlimits[i].hard);
        for (size_t j = 0; j < i; j++)
            check(p.rlimits[i].resource != p.rlimits[j].resource);
    }
}

void check_config(const Config &c) {
    check(c.root && !c.root->path.empty());
    for (const auto &m : c.mounts)
        check(!m.destination.empty() && m.destination[0] == '/');
    if (c.process)
        check_process(*c.process);
    if (c.linux) {
        const auto &ns = c.linux->namespaces;
        for (size_t i = 0; i < ns.size(); i++)
            for (size_t j = 0; j < i; j++)
                check(ns[i].type != ns[j].type);
        for (const auto &d : c.linux->devices)
            check(!d.fileMode || *d.fileMode <= 0777);
        if (c.linux->seccomp)
            for (const auto &s : c.linux->seccomp->syscalls)
                check(!s.names.empty());
    }
}

} // namespace

int crunpp::fuzz::config(const uint8_t *data, size_t size) {
    std::string_view text(reinterpret_cast<const char *>(data), size);
    try {
        check_config(parse_config(text));
    } catch (const crunpp::Error &e) {
        crunpp::fuzz::check(e.what()[0] != '\0', "config: an empty error");
    }
    try {
        check_process(parse_process(text));
    } catch (const crunpp::Error &e) {
        crunpp::fuzz::check(e.what()[0] != '\0', "config: an empty error");
    }
    return 0;
}

CRUNPP_FUZZ_TARGET(crunpp::fuzz::config)
