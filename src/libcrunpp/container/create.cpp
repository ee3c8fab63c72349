// SPDX-License-Identifier: GPL-2.0-or-later
// `create`: the init is left blocked on the exec fifo; crunpp exits and the
// init is reparented to the caller's subreaper.
#include "crunpp/container.hpp"
#include "launch.hpp"

namespace crunpp::container {

void create(const Context &ctx, const CreateOptions &o) {
    Launched l = launch(ctx, o, LaunchMode{});
    (void)l; // the lock and the init's pidfd are released here
}

} // namespace crunpp::container
