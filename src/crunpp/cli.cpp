// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli.hpp"

#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "crunpp/error.hpp"
#include "crunpp/state.hpp"

namespace crunpp::cli {
namespace {

void write_fd(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t w = ::write(fd, s.data(), s.size());
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s.remove_prefix(static_cast<size_t>(w));
    }
}

const OptionSpec *find_long(const std::vector<OptionSpec> &options, std::string_view name) {
    for (const auto &o : options)
        if (name == o.long_name)
            return &o;
    return nullptr;
}

// crun's (argp's) "--det" for "--detach": a prefix of exactly one option.
const OptionSpec *find_prefix(const std::vector<OptionSpec> &options, std::string_view prefix) {
    const OptionSpec *found = nullptr;
    for (const auto &o : options) {
        if (!std::string_view(o.long_name).starts_with(prefix))
            continue;
        // Two spellings of one option are no ambiguity.
        const char *name = o.alias_of ? o.alias_of : o.long_name;
        if (found && std::string_view(found->alias_of ? found->alias_of : found->long_name) != name)
            return nullptr;
        found = &o;
    }
    return found;
}

const OptionSpec *find_short(const std::vector<OptionSpec> &options, char c) {
    for (const auto &o : options)
        if (o.short_name != 0 && o.short_name == c)
            return &o;
    return nullptr;
}

} // namespace

void out(std::string_view s) { write_fd(STDOUT_FILENO, s); }
void err(std::string_view s) { write_fd(STDERR_FILENO, s); }

std::string GlobalOptions::state_root() const { return root.empty() ? state::default_root() : root; }

bool GlobalOptions::is_rootless() const {
    switch (rootless) {
    case Rootless::True: return true;
    case Rootless::False: return false;
    case Rootless::Auto: break;
    }
    // Root in another user namespace (rootless podman's) is not the host's
    // root either: no mknod, no cgroup of its own.
    return geteuid() != 0 || state::in_user_namespace();
}

bool ParsedArgs::has(std::string_view n) const { return values_.find(n) != values_.end(); }

std::optional<std::string> ParsedArgs::get(std::string_view n) const {
    auto [lo, hi] = values_.equal_range(n);
    if (lo == hi)
        return std::nullopt;
    return std::prev(hi)->second;
}

std::string ParsedArgs::get_or(std::string_view n, std::string fallback) const {
    auto v = get(n);
    return v ? *v : std::move(fallback);
}

std::vector<std::string> ParsedArgs::all(std::string_view n) const {
    std::vector<std::string> r;
    auto [lo, hi] = values_.equal_range(n);
    for (auto it = lo; it != hi; ++it)
        r.push_back(it->second);
    return r;
}

ParsedArgs parse_options(std::string_view command, std::vector<std::string> args,
                         const std::vector<OptionSpec> &options, bool stop_at_positional) {
    ParsedArgs r;
    // Errors name the command ("kill: unknown option ..."); global options
    // (command "") need no prefix since main adds "crunpp: ".
    std::string cmd(command);
    std::string prefix = cmd.empty() ? "" : cmd + ": ";
    std::string help_hint = cmd.empty() ? "crunpp --help" : "crunpp " + cmd + " --help";
    auto store = [&](const OptionSpec &o, std::string value) {
        const char *name = o.alias_of ? o.alias_of : o.long_name;
        if (!o.repeatable)
            r.values_.erase(std::string(name));
        r.values_.emplace(name, std::move(value));
    };
    for (size_t i = 0; i < args.size(); i++) {
        const std::string &a = args[i];
        if (a == "--") {
            for (size_t j = i + 1; j < args.size(); j++)
                r.positional.push_back(args[j]);
            break;
        }
        if (a.size() < 2 || a[0] != '-') {
            r.positional.push_back(a);
            if (stop_at_positional) {
                for (size_t j = i + 1; j < args.size(); j++)
                    r.positional.push_back(args[j]);
                break;
            }
            continue;
        }
        // "--name", "--name=value" and runc's single-dash long form "-name".
        bool double_dash = a[1] == '-';
        std::string_view body = std::string_view(a).substr(double_dash ? 2 : 1);
        std::optional<std::string> inline_value;
        if (auto eq = body.find('='); eq != std::string_view::npos) {
            inline_value = std::string(body.substr(eq + 1));
            body = body.substr(0, eq);
        }
        const OptionSpec *o = nullptr;
        if (!double_dash && body.size() == 1)
            o = find_short(options, body[0]);
        if (!o)
            o = find_long(options, body);
        if (!o && double_dash && body.size() >= 2)
            o = find_prefix(options, body);
        // crun's (argp's) short option with its value attached: -b/path.
        if (!o && !double_dash && body.size() > 1) {
            const OptionSpec *s = find_short(options, body[0]);
            if (s && s->takes_value) {
                store(*s, std::string(std::string_view(a).substr(2)));
                continue;
            }
        }
        if (!o && !double_dash && !inline_value) {
            // A cluster of short flags: -dt
            bool all_flags = true;
            for (char c : body) {
                const OptionSpec *s = find_short(options, c);
                if (!s || s->takes_value)
                    all_flags = false;
            }
            if (all_flags) {
                for (char c : body)
                    store(*find_short(options, c), "true");
                continue;
            }
        }
        if (!o)
            throw Error(prefix + "unknown option " + a + " (see '" + help_hint + "')");
        if (o->takes_value) {
            if (inline_value) {
                store(*o, *inline_value);
            } else {
                // runc's (Go flag) words: engines probe for them, e.g. podman's
                // `restore --lsm-mount-context` test for restoring into a pod.
                if (i + 1 >= args.size())
                    throw Error(prefix + "flag needs an argument: --" + o->long_name);
                store(*o, args[++i]);
            }
        } else {
            // Boolean flags accept --flag=true/false as urfave/cli does.
            if (inline_value && *inline_value != "true" && *inline_value != "false")
                throw Error(prefix + "option --" + o->long_name + " takes true or false, not \"" + *inline_value +
                            "\"");
            if (inline_value && *inline_value == "false")
                r.values_.erase(std::string(o->alias_of ? o->alias_of : o->long_name));
            else
                store(*o, "true");
        }
    }
    return r;
}

std::string usage_text(std::string_view command, std::string_view synopsis, std::string_view summary,
                       const std::vector<OptionSpec> &options) {
    std::string s = "Usage: crunpp ";
    s += command;
    if (!options.empty())
        s += " [OPTIONS]";
    if (!synopsis.empty()) {
        s += ' ';
        s += synopsis;
    }
    s += "\n\n";
    s += summary;
    s += "\n";
    if (!options.empty()) {
        s += "\nOptions:\n";
        for (const auto &o : options) {
            std::string left = "  ";
            if (o.short_name) {
                left += '-';
                left += o.short_name;
                left += ", ";
            } else {
                left += "    ";
            }
            left += "--";
            left += o.long_name;
            if (o.takes_value)
                left += " VALUE";
            if (left.size() < 30)
                left.append(30 - left.size(), ' ');
            else
                left += "  ";
            s += left;
            s += o.help;
            s += '\n';
        }
    }
    if (!find_long(options, "help"))
        s += "  -h, --help                  show this help\n";
    return s;
}

void require_positional(std::string_view command, const ParsedArgs &args, size_t min, size_t max,
                        std::string_view what) {
    size_t n = args.positional.size();
    if (n < min || n > max) {
        std::string msg(command);
        msg += n < min ? ": missing " : ": too many arguments; expected ";
        msg += what;
        throw Error(msg);
    }
}

std::optional<int> parse_non_negative(std::string_view text) {
    int value = -1;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 0)
        return std::nullopt;
    return value;
}

} // namespace crunpp::cli
