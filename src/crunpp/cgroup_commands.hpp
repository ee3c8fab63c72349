// SPDX-License-Identifier: GPL-2.0-or-later
// What update, pause, resume, ps and events share: the container's state
// with a check of its status.
#pragma once

#include <initializer_list>
#include <string>

#include "cli.hpp"
#include "crunpp/error.hpp"
#include "crunpp/state.hpp"

namespace crunpp::cli {

// Opens (and locks) the container and checks that its effective status is
// one of `allowed`; the error reads "<command> container ID: it is stopped".
inline state::Container open_container(const GlobalOptions &g, const std::string &command, const std::string &id,
                                       std::initializer_list<state::Status> allowed) {
    state::Store store(g.state_root());
    state::Container c = store.open(id);
    state::Status s = state::effective_status(c.state());
    for (state::Status a : allowed)
        if (s == a)
            return c;
    throw Error(command + " container " + id + ": it is " + state::status_name(s));
}

} // namespace crunpp::cli
