// SPDX-License-Identifier: GPL-2.0-or-later
// `crunpp list`: every container under the state root, as runc lists them.
#include <algorithm>
#include <vector>

#include "cli.hpp"
#include "crunpp/error.hpp"
#include "crunpp/json.hpp"
#include "crunpp/log.hpp"
#include "crunpp/state.hpp"

namespace crunpp::cli {
namespace {

// runc's tabwriter layout: every column but the last is padded to its
// widest cell plus 3 spaces, and to at least 12 characters.
std::string format_table(const std::vector<std::vector<std::string>> &rows) {
    constexpr size_t kMinWidth = 12, kPadding = 3;
    std::vector<size_t> width;
    for (const auto &row : rows)
        for (size_t i = 0; i + 1 < row.size(); i++) {
            if (width.size() <= i)
                width.resize(i + 1, kMinWidth);
            width[i] = std::max(width[i], row[i].size() + kPadding);
        }
    std::string s;
    for (const auto &row : rows) {
        for (size_t i = 0; i < row.size(); i++) {
            s += row[i];
            if (i + 1 < row.size())
                s.append(width[i] - row[i].size(), ' ');
        }
        s += '\n';
    }
    return s;
}

int run_list(const GlobalOptions &global, const ParsedArgs &args) {
    require_positional("list", args, 0, 0, "no arguments");
    std::string format = args.get_or("format", "table");
    if (format != "table" && format != "json")
        throw Error("list: invalid --format \"" + format + "\": expected table or json");
    state::Store store(global.state_root());

    std::vector<state::ContainerState> containers;
    for (const std::string &id : store.list_ids()) {
        try {
            // Unlocked snapshots, as for `state`; a container removed since
            // list_ids() is simply not listed.
            if (auto s = store.read(id)) {
                s->status = state::effective_status(*s);
                containers.push_back(std::move(*s));
            }
        } catch (const Error &e) {
            // One damaged entry must not hide the others.
            log::warn(std::string("list: skipping container \"") + id + "\": " + e.what());
        }
    }

    if (args.has("quiet")) {
        std::string s;
        for (const auto &c : containers)
            s += c.id + "\n";
        out(s);
        return 0;
    }
    if (format == "json") {
        json::Writer w;
        w.begin_array();
        for (const auto &c : containers)
            state::write_oci_state(w, c, state::PidWhenNone::Zero);
        w.end_array();
        out(std::string(w.str()) + "\n");
        return 0;
    }
    std::vector<std::vector<std::string>> rows = {{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
    for (const auto &c : containers) {
        rows.push_back({c.id, std::to_string(state::shown_pid(c)), state::status_name(c.status), c.bundle, c.created,
                        state::owner_name(c.owner)});
    }
    out(format_table(rows));
    return 0;
}

} // namespace

extern const Command kListCommand;
const Command kListCommand = {"list",
                              "",
                              "list the containers under the state root",
                              {
                                  {"format", 'f', true, "output format: table (default) or json"},
                                  {"quiet", 'q', false, "print only the container ids"},
                              },
                              run_list};

} // namespace crunpp::cli
