// SPDX-License-Identifier: GPL-2.0-or-later
// The command-line frame: global options, the command table, and a small
// option parser every subcommand uses (runc's syntax: --opt VALUE,
// --opt=VALUE, -o VALUE, and a lone "--" ending the options).
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crunpp::cli {

enum class Rootless { Auto, True, False };

struct GlobalOptions {
    std::string root; // empty: state::default_root()
    std::string log;
    bool log_json = false;
    bool debug = false;
    bool systemd_cgroup = false;
    std::string cgroup_manager; // "", "cgroupfs", "systemd", "disabled"
    Rootless rootless = Rootless::Auto;
    std::string criu; // --criu

    // --root, or the default for this user.
    std::string state_root() const;
    // Whether to act as an unprivileged user (--rootless, else euid != 0).
    bool is_rootless() const;
};

struct OptionSpec {
    const char *long_name; // "bundle"
    char short_name;       // 'b' or 0
    bool takes_value;
    const char *help;
    bool repeatable = false;
    // Another spelling of option `alias_of` (runc's or crun's), stored
    // under that name.
    const char *alias_of = nullptr;
};

class ParsedArgs {
public:
    bool has(std::string_view long_name) const;
    // The (last) value of an option, or nullopt.
    std::optional<std::string> get(std::string_view long_name) const;
    std::string get_or(std::string_view long_name, std::string fallback) const;
    // Every value of a repeatable option, in order.
    std::vector<std::string> all(std::string_view long_name) const;
    std::vector<std::string> positional;

private:
    friend ParsedArgs parse_options(std::string_view, std::vector<std::string>, const std::vector<OptionSpec> &,
                                    bool);
    std::multimap<std::string, std::string, std::less<>> values_;
};

// Parses a subcommand's arguments. Unknown options and missing values throw
// Error("<command>: unknown option --x"). With stop_at_positional, everything
// after the first positional argument is positional too (for `exec ID CMD -x`).
ParsedArgs parse_options(std::string_view command, std::vector<std::string> args,
                         const std::vector<OptionSpec> &options, bool stop_at_positional = false);

// Usage text of one command, built from its option table.
std::string usage_text(std::string_view command, std::string_view synopsis, std::string_view summary,
                       const std::vector<OptionSpec> &options);

// Throws Error("<command>: <what>") unless positional has between min and max entries.
void require_positional(std::string_view command, const ParsedArgs &args, size_t min, size_t max,
                        std::string_view what);

// The whole of `text` as a decimal number >= 0 (a count, a descriptor);
// nullopt otherwise.
std::optional<int> parse_non_negative(std::string_view text);

struct Command {
    const char *name;
    const char *synopsis; // positional arguments, e.g. "ID [SIGNAL]"
    const char *summary;
    std::vector<OptionSpec> options;
    // Returns the process exit status. Errors are thrown as crunpp::Error.
    int (*run)(const GlobalOptions &global, const ParsedArgs &args);
    bool stop_at_positional = false;
};

// The table, one entry per subcommand (commands.cpp); each subcommand lives
// in its own file and defines `extern const Command k<Name>Command`.
const std::vector<const Command *> &commands();
const Command *find_command(std::string_view name);

// Helpers for writing to stdout/stderr without <iostream>.
void out(std::string_view s);
void err(std::string_view s);

} // namespace crunpp::cli
