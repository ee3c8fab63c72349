// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for `exec --process FILE`: the process.json parsed as
// exec parses it, then the process exec would run built from it, without
// and with command-line overrides (exec_process.cpp). Anything but a
// Process or a crunpp::Error, or a result breaking what build_exec_process
// promises, is a bug. The input's first line also goes to the --user and
// --cgroup parsers.
#include <algorithm>
#include <string>
#include <string_view>

#include "crunpp/container.hpp"
#include "crunpp/error.hpp"
#include "crunpp/spec.hpp"
#include "fuzz.hpp"
#include "src/libcrunpp/container/exec_process.hpp"

namespace {

using crunpp::fuzz::check;
using crunpp::spec::Process;

bool has(const std::optional<std::vector<std::string>> &set, const std::string &v) {
    return set && std::find(set->begin(), set->end(), v) != set->end();
}

void check_built(const Process &p) {
    check(!p.args.empty(), "exec: a process without args");
    check(!p.cwd.empty() && p.cwd[0] == '/', "exec: a relative cwd");
}

void with_overrides(const Process &base) {
    crunpp::container::ProcessOverrides o;
    o.args = {"/bin/true", "x"};
    o.env = {"FUZZ_A=1"};
    o.cwd = "/tmp";
    o.user = "1000:1000";
    o.additional_gids = {"5"};
    o.caps = {"CAP_KILL"};
    o.tty = true;
    Process p = crunpp::container::build_exec_process(base, true, o);
    check_built(p);
    check(p.args == o.args && !p.commandLine, "exec: args not replaced");
    check(std::find(p.env.begin(), p.env.end(), "FUZZ_A=1") != p.env.end(), "exec: --env not set");
    check(p.cwd == "/tmp" && p.terminal, "exec: --cwd or --tty not applied");
    check(p.user.uid == 1000 && p.user.gid == 1000, "exec: --user not applied");
    check(!p.user.additionalGids.empty() && p.user.additionalGids.back() == 5, "exec: --additional-gids not applied");
    check(p.capabilities.has_value(), "exec: --cap without capabilities");
    const auto &c = *p.capabilities;
    const auto *bc = base.capabilities ? &*base.capabilities : nullptr;
    check(has(c.bounding, "CAP_KILL") && has(c.effective, "CAP_KILL") && has(c.permitted, "CAP_KILL"),
          "exec: --cap not in bounding/effective/permitted");
    // Never added to inheritable (CVE-2022-29162); ambient only where inheritable has it.
    check(bc ? c.inheritable == bc->inheritable : !c.inheritable, "exec: --cap changed inheritable");
    check(has(c.ambient, "CAP_KILL") == (has(c.inheritable, "CAP_KILL") || (bc && has(bc->ambient, "CAP_KILL"))),
          "exec: --cap in ambient without inheritable");
}

} // namespace

int crunpp::fuzz::exec_process(const uint8_t *data, size_t size) {
    std::string_view text(reinterpret_cast<const char *>(data), size);
    try {
        Process base = spec::parse_process(text);
        check_built(container::build_exec_process(base, true, {}));
        with_overrides(base);
    } catch (const Error &e) {
        check(e.what()[0] != '\0', "exec: an empty error");
    }
    std::string_view line = text.substr(0, std::min(text.find('\n'), size_t{128}));
    try {
        container::UserSpec u = container::parse_user_spec(line);
        check(u.uid != UINT32_MAX && u.gid != UINT32_MAX, "exec: --user accepted (uid_t)-1");
    } catch (const Error &e) {
        check(e.what()[0] != '\0', "exec: an empty error");
    }
    try {
        for (const auto &[ctrl, path] : container::parse_sub_cgroups({std::string(line)}))
            check(("/" + path + "/").find("/../") == std::string::npos, "exec: --cgroup path with ..");
    } catch (const Error &e) {
        check(e.what()[0] != '\0', "exec: an empty error");
    }
    return 0;
}

CRUNPP_FUZZ_TARGET(crunpp::fuzz::exec_process)
