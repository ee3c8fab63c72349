// SPDX-License-Identifier: GPL-2.0-or-later
// The command table: one line per subcommand, each defined in its own file.
#include "cli.hpp"

namespace crunpp::cli {

extern const Command kSpecCommand;
extern const Command kFeaturesCommand;
extern const Command kStateCommand;
extern const Command kListCommand;
extern const Command kCreateCommand;
extern const Command kStartCommand;
extern const Command kRunCommand;
extern const Command kExecCommand;
extern const Command kKillCommand;
extern const Command kDeleteCommand;
extern const Command kUpdateCommand;
extern const Command kPauseCommand;
extern const Command kResumeCommand;
extern const Command kPsCommand;
extern const Command kEventsCommand;
extern const Command kCheckpointCommand;
extern const Command kRestoreCommand;

const std::vector<const Command *> &commands() {
    static const std::vector<const Command *> table = {
        &kSpecCommand,
        &kFeaturesCommand,
        &kStateCommand,
        &kListCommand,
        &kCreateCommand,
        &kStartCommand,
        &kRunCommand,
        &kExecCommand,
        &kKillCommand,
        &kDeleteCommand,
        &kUpdateCommand,
        &kPauseCommand,
        &kResumeCommand,
        &kPsCommand,
        &kEventsCommand,
        &kCheckpointCommand,
        &kRestoreCommand,
    };
    return table;
}

const Command *find_command(std::string_view name) {
    for (const Command *c : commands())
        if (name == c->name)
            return c;
    return nullptr;
}

} // namespace crunpp::cli
