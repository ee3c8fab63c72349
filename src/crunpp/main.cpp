// SPDX-License-Identifier: GPL-2.0-or-later
// Entry point: global options, then dispatch through the command table.
// Every error ends up here as crunpp::Error and is printed once as
// "crunpp: <what>: <why>" (and logged as JSON with --log-format json).
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "cli.hpp"
#include "crunpp/error.hpp"
#include "crunpp/log.hpp"
#include "crunpp/version.hpp"

using namespace crunpp;

namespace {

const std::vector<cli::OptionSpec> kGlobalOptions = {
    {"root", 0, true, "state directory (default /run/crunpp, rootless $XDG_RUNTIME_DIR/crunpp)"},
    {"log", 0, true, "log file (default stderr)"},
    {"log-format", 0, true, "log format: text or json"},
    {"debug", 0, false, "enable debug logging"},
    {"systemd-cgroup", 0, false, "use the systemd cgroup driver"},
    {"cgroup-manager", 0, true, "cgroup manager: cgroupfs, systemd or disabled"},
    {"rootless", 0, true, "rootless mode: true, false or auto"},
    {"criu", 0, true, "criu binary of checkpoint and restore (default: criu in $PATH)"},
    {"version", 'v', false, "print the version"},
    {"version", 'V', false, "the same (crun)", false, "version"},
    {"help", 'h', false, "show this help"},
    {"help", '?', false, "the same (crun)", false, "help"},
    {"usage", 0, false, "the same (crun)", false, "help"},
};

std::string global_usage() {
    std::string s = "crunpp: an OCI container runtime\n\nUsage: crunpp [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n\n"
                    "Commands:\n";
    for (const cli::Command *c : cli::commands()) {
        std::string line = "  ";
        line += c->name;
        if (line.size() < 16)
            line.append(16 - line.size(), ' ');
        s += line + c->summary + "\n";
    }
    std::string opts = cli::usage_text("", "", "", kGlobalOptions);
    s += "\nGlobal options:\n" + opts.substr(opts.find("Options:\n") + 9);
    s += "\nRun 'crunpp COMMAND --help' for a command's options.\n";
    return s;
}

std::string version_text() {
    std::string s = "crunpp version ";
    s += CRUNPP_VERSION;
    s += "\nspec: ";
    s += CRUNPP_OCI_VERSION;
    s += "\n";
    return s;
}

int run_main(int argc, char **argv) {
    // Global options stop at the first non-option word: the command.
    std::vector<std::string> args(argv + 1, argv + argc);
    size_t i = 0;
    std::vector<std::string> global_args;
    while (i < args.size() && args[i].size() > 1 && args[i][0] == '-' && args[i] != "--") {
        global_args.push_back(args[i]);
        // An option taking a value consumes the next word unless given as --x=v.
        std::string_view body(args[i]);
        body.remove_prefix(body.starts_with("--") ? 2 : 1);
        bool takes_value = false;
        for (const auto &o : kGlobalOptions)
            if (body == o.long_name && o.takes_value)
                takes_value = true;
        if (takes_value && i + 1 < args.size())
            global_args.push_back(args[++i]);
        i++;
    }
    cli::ParsedArgs g = cli::parse_options("", global_args, kGlobalOptions);
    cli::GlobalOptions global;
    global.root = g.get_or("root", "");
    global.log = g.get_or("log", "");
    global.debug = g.has("debug");
    global.systemd_cgroup = g.has("systemd-cgroup");
    global.criu = g.get_or("criu", "");
    std::string fmt = g.get_or("log-format", "text");
    if (fmt != "text" && fmt != "json")
        throw Error("invalid --log-format \"" + fmt + "\": expected text or json");
    global.log_json = fmt == "json";
    log::init({global.log.empty() ? nullptr : global.log.c_str(), global.log_json, global.debug});
    global.cgroup_manager = g.get_or("cgroup-manager", global.systemd_cgroup ? "systemd" : "");
    if (!global.cgroup_manager.empty() && global.cgroup_manager != "cgroupfs" &&
        global.cgroup_manager != "systemd" && global.cgroup_manager != "disabled")
        throw Error("invalid --cgroup-manager \"" + global.cgroup_manager +
                    "\": expected cgroupfs, systemd or disabled");
    if (global.cgroup_manager == "systemd")
        global.systemd_cgroup = true;
    std::string rootless = g.get_or("rootless", "auto");
    if (rootless == "true")
        global.rootless = cli::Rootless::True;
    else if (rootless == "false")
        global.rootless = cli::Rootless::False;
    else if (rootless != "auto")
        throw Error("invalid --rootless \"" + rootless + "\": expected true, false or auto");

    if (g.has("version")) {
        cli::out(version_text());
        return 0;
    }
    if (g.has("help")) {
        cli::out(global_usage());
        return 0;
    }
    if (i >= args.size()) {
        cli::err(global_usage());
        throw Error("no command given");
    }
    if (args[i] == "help") {
        if (i + 1 < args.size()) {
            if (const cli::Command *c = cli::find_command(args[i + 1])) {
                cli::out(cli::usage_text(c->name, c->synopsis, c->summary, c->options));
                return 0;
            }
        }
        cli::out(global_usage());
        return 0;
    }
    const cli::Command *cmd = cli::find_command(args[i]);
    if (!cmd)
        throw Error("unknown command \"" + args[i] + "\" (see 'crunpp --help')");
    std::vector<std::string> rest(args.begin() + static_cast<long>(i) + 1, args.end());
    // --help anywhere before a "--" (and before the command's own positional
    // tail for exec-like commands) prints the command's usage.
    for (const auto &a : rest) {
        if (a == "--")
            break;
        if (a == "--help" || a == "-h" || a == "-help" || a == "-?" || a == "--usage") {
            cli::out(cli::usage_text(cmd->name, cmd->synopsis, cmd->summary, cmd->options));
            return 0;
        }
        if (cmd->stop_at_positional && !a.empty() && a[0] != '-')
            break;
    }
    cli::ParsedArgs parsed = cli::parse_options(cmd->name, std::move(rest), cmd->options, cmd->stop_at_positional);
    return cmd->run(global, parsed);
}

} // namespace

int main(int argc, char **argv) {
    try {
        return run_main(argc, argv);
    } catch (const Error &e) {
        log::error(e.what());
        // With --log the error also reaches the caller's stderr, as runc does.
        if (log::fd() != STDERR_FILENO) {
            std::string line = "crunpp: ";
            line += e.what();
            line += '\n';
            cli::err(line);
        }
        return 1;
    } catch (const std::bad_alloc &) {
        cli::err("crunpp: out of memory\n");
        return 1;
    } catch (const std::exception &e) {
        std::string line = "crunpp: internal error: ";
        line += e.what();
        line += '\n';
        cli::err(line);
        return 1;
    }
}
