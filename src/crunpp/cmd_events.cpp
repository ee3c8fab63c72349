// SPDX-License-Identifier: GPL-2.0-or-later
// `events [--stats] [--interval DUR] ID`: runc's JSON events, one per line.
// --stats prints the statistics once; otherwise statistics every interval
// and {"type":"oom"} when the kernel OOM-kills in the container, until the
// container stops.
#include <poll.h>
#include <unistd.h>

#include <cctype>
#include <climits>

#include "cgroup_commands.hpp"
#include "crunpp/cgroup.hpp"
#include "crunpp/json.hpp"

namespace crunpp::cli {
namespace {

// A Go duration: "5s", "100ms", "1m30s", "1h"; in milliseconds.
long parse_interval(const std::string &text) {
    static const struct {
        const char *unit;
        double ms;
    } units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"µs", 1e-3}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    double total = 0;
    size_t i = 0;
    while (i < text.size()) {
        size_t b = i;
        while (i < text.size() && (isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
            i++;
        if (i == b)
            break;
        double n = std::stod(text.substr(b, i - b));
        double per = -1;
        for (const auto &u : units) {
            size_t len = std::char_traits<char>::length(u.unit);
            // The longest unit first: "ms" before "m".
            if (text.compare(i, len, u.unit) == 0 && (per < 0 || len > 1)) {
                per = u.ms;
                if (len > 1) {
                    i += len;
                    break;
                }
            }
        }
        if (per < 0)
            break;
        if (per == 1000 || per == 60000 || per == 3600000)
            i += 1;
        total += n * per;
    }
    if (text.empty() || i != text.size() || total < 1 || total > 86400000.0)
        throw Error("events: --interval: \"" + text + "\" is not a duration between 1ms and 24h (e.g. 5s, 500ms)");
    return static_cast<long>(total);
}

std::string event(const char *type, const std::string &id, const std::string *data) {
    json::Writer w;
    w.begin_object().key("type").string(type).key("id").string(id);
    std::string s(w.str());
    // The data object is already JSON: splice it in.
    if (data)
        s += ",\"data\":" + *data;
    return s + "}\n";
}

struct Snapshot {
    cgroup::Paths paths;
    bool alive = false;
};

Snapshot look(const GlobalOptions &g, const std::string &id) {
    state::Store store(g.state_root());
    std::optional<state::ContainerState> s = store.read(id);
    Snapshot snap;
    if (!s)
        return snap;
    snap.paths = s->cgroup_paths;
    state::Status st = state::effective_status(*s);
    snap.alive = st == state::Status::Created || st == state::Status::Running || st == state::Status::Paused;
    return snap;
}

int run_events(const GlobalOptions &g, const ParsedArgs &a) {
    require_positional("events", a, 1, 1, "container ID");
    const std::string &id = a.positional[0];
    long interval = parse_interval(a.get_or("interval", "5s"));
    Snapshot snap = look(g, id);
    if (!snap.alive) {
        state::Store store(g.state_root());
        if (!store.exists(id))
            throw Error("container \"" + id + "\" does not exist");
        throw Error("events container " + id + ": it is not running");
    }
    if (snap.paths.empty())
        throw Error("events container " + id + ": it has no cgroup");
    if (a.has("stats")) {
        std::string data = cgroup::stats_json(snap.paths);
        out(event("stats", id, &data));
        return 0;
    }
    UniqueFd oom = cgroup::oom_event_fd(snap.paths);
    uint64_t kills = cgroup::oom_kills(snap.paths);
    auto report_oom = [&]() {
        uint64_t now = cgroup::oom_kills(snap.paths);
        for (; kills < now; kills++)
            out(event("oom", id, nullptr));
    };
    for (;;) {
        struct pollfd p = {oom.get(), POLLIN, 0};
        int r = poll(&p, 1, static_cast<int>(std::min(interval, long(INT_MAX))));
        if (r < 0 && errno != EINTR)
            throw_errno("events: poll");
        if (r > 0) {
            char buf[4096];
            while (read(oom.get(), buf, sizeof buf) > 0) {
            }
            report_oom();
        }
        Snapshot now = look(g, id);
        if (!now.alive) {
            report_oom();
            return 0;
        }
        if (r == 0) {
            std::string data = cgroup::stats_json(snap.paths);
            out(event("stats", id, &data));
        }
    }
}

} // namespace

extern const Command kEventsCommand;
const Command kEventsCommand = {"events",
                                "ID",
                                "print the container's events (statistics, oom) as JSON lines",
                                {{"stats", 0, false, "print the statistics once and exit"},
                                 {"interval", 0, true, "statistics interval (Go duration, default 5s)"}},
                                run_events};

} // namespace crunpp::cli
