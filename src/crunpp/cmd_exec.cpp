// SPDX-License-Identifier: GPL-2.0-or-later
// `exec [OPTIONS] ID [COMMAND [ARG...]]`: runc's flags; everything after
// the ID belongs to the command.

#include "cli.hpp"
#include "crunpp/container.hpp"
#include "crunpp/error.hpp"
#include "lifecycle_options.hpp"

namespace crunpp::cli {
namespace {

const std::vector<OptionSpec> kExecOptions = {
    {"process", 'p', true, "process.json to run instead of the config's process with COMMAND"},
    {"tty", 't', false, "allocate a pseudo-terminal for the process"},
    {"console-socket", 0, true, "AF_UNIX socket that receives the pty master (with --tty)"},
    {"detach", 'd', false, "return once the process runs instead of waiting for it"},
    {"pid-file", 0, true, "file to write the process's host pid to"},
    {"env", 'e', true, "set an environment variable (KEY=VALUE)", true},
    {"cwd", 0, true, "working directory of the process (absolute, in the container)"},
    {"user", 'u', true, "UID[:GID] of the process (GID 0 when not given)"},
    {"additional-gids", 'g', true, "add a supplementary group id", true},
    {"cap", 'c', true, "add a capability (CAP_X) to the bounding, effective and permitted sets", true},
    {"no-new-privs", 0, false, "set no_new_privs for the process"},
    {"preserve-fds", 0, true, "number of extra fds (from 3) passed to the process"},
    {"apparmor", 0, true, "AppArmor profile of the process"},
    {"process-label", 0, true, "SELinux label of the process"},
    {"cgroup", 0, true, "run in a sub-cgroup of the container: [CONTROLLER[,CONTROLLER]:]SUBPATH", true},
    {"ignore-paused", 0, false, "exec into a paused container (the process starts frozen)"},
    {"pidfd-socket", 0, true, "AF_UNIX socket that receives a pidfd of the process"},
};

int run_exec(const GlobalOptions &g, const ParsedArgs &a) {
    if (a.positional.empty())
        require_positional("exec", a, 1, 1, "expects a container ID");
    container::ExecOptions o;
    o.id = a.positional[0];
    o.process_file = a.get_or("process", "");
    container::ProcessOverrides &p = o.overrides;
    p.args.assign(a.positional.begin() + 1, a.positional.end());
    if (o.process_file.empty() && p.args.empty())
        throw Error("exec: expects a COMMAND or --process FILE");
    p.env = a.all("env");
    p.cwd = a.get_or("cwd", "");
    p.user = a.get_or("user", "");
    p.additional_gids = a.all("additional-gids");
    p.caps = a.all("cap");
    p.tty = a.has("tty");
    p.no_new_privs = a.has("no-new-privs");
    p.apparmor = a.get_or("apparmor", "");
    p.process_label = a.get_or("process-label", "");
    o.detach = a.has("detach");
    o.pid_file = a.get_or("pid-file", "");
    o.console_socket = a.get_or("console-socket", "");
    o.pidfd_socket = a.get_or("pidfd-socket", "");
    if (std::optional<std::string> n = a.get("preserve-fds"))
        o.preserve_fds = parse_fd_count(*n);
    o.cgroups = a.all("cgroup");
    o.ignore_paused = a.has("ignore-paused");
    return container::exec(container_context(g), o);
}

} // namespace

extern const Command kExecCommand;
const Command kExecCommand = {"exec", "ID [COMMAND [ARG...]]", "run a new process in a running container",
                              kExecOptions, run_exec, true};

} // namespace crunpp::cli
