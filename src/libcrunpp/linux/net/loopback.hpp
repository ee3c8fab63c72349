// SPDX-License-Identifier: GPL-2.0-or-later
// The loopback interface of a new network namespace starts down: runc and
// crun set it up, and programs expect 127.0.0.1 to work.
#pragma once

namespace crunpp::linux {

// Sets `lo` of the caller's network namespace up (rtnetlink).
void bring_loopback_up();

} // namespace crunpp::linux
