// SPDX-License-Identifier: GPL-2.0-or-later
// exec's pure parts: the process built from the container's config (or a
// process.json) and the command-line overrides, and the --cgroup targets.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "crunpp/cgroup.hpp"
#include "crunpp/container.hpp"
#include "crunpp/spec.hpp"

namespace crunpp::container {

struct UserSpec {
    uint32_t uid = 0;
    uint32_t gid = 0;
};

// "UID" or "UID:GID", decimal. "1" is uid 1 with gid 0, never the config's
// gid (CVE-2026-30892). Errors name --user.
UserSpec parse_user_spec(std::string_view text);

// `base` is config.process (from_process_file false: terminal is off unless
// o.tty, as in runc) or a process.json (terminal kept, forced on by o.tty).
// --cap adds to bounding, effective and permitted, never to inheritable
// (CVE-2022-29162), and to ambient only where inheritable has it (runc adds
// it to ambient when the process has an inheritable set; the kernel refuses
// an ambient capability outside the inheritable set). Checks the result:
// args not empty, cwd absolute.
spec::Process build_exec_process(const spec::Process &base, bool from_process_file, const ProcessOverrides &o);

// --cgroup values: controller -> sub-path; the key "" (a lone SUBPATH, which
// must then be the only value) applies to every hierarchy. runc's errors:
// empty controller, a controller given twice, a lone path among others.
// Sub-paths are relative to the container's cgroup ("/" prefix allowed; "/"
// alone is the container's cgroup itself), never empty and without "..".
using SubCgroups = std::map<std::string, std::string>;
SubCgroups parse_sub_cgroups(const std::vector<std::string> &values);

// The container's cgroup paths (state cgroup_paths) with the sub-paths
// applied; co-mounted controllers (one directory) must agree. A controller
// of `sub` the container has no cgroup for is an error. Existence is not
// checked here.
cgroup::Paths exec_cgroup_paths(const cgroup::Paths &container, const SubCgroups &sub);

// `dir` relative to the container's cgroup2 directory: "" for the
// container's own (or one not below it), "x/y" for --cgroup x/y.
std::string sub_cgroup(const cgroup::Paths &container, const std::string &dir);

} // namespace crunpp::container
