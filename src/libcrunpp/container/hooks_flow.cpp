// SPDX-License-Identifier: GPL-2.0-or-later
#include "hooks_flow.hpp"

#include "../hooks/hooks.hpp"
#include "crunpp/error.hpp"
#include "crunpp/log.hpp"
#include "kept_config.hpp"

namespace crunpp::container {
namespace {

// The state's extra key marking a config with poststart or poststop hooks;
// its value, the config's path, is what crunpp before the kept config read.
constexpr const char *kHooksConfig = "hooksConfig";

} // namespace

std::string hook_state_json(state::ContainerState st, state::Status status, pid_t pid) {
    st.status = status;
    st.pid = pid;
    return state::to_oci_json(st, false);
}

void record_hooks_config(state::ContainerState &st, const spec::Config &cfg, const std::string &config_path) {
    if (cfg.hooks && (!cfg.hooks->poststart.empty() || !cfg.hooks->poststop.empty()))
        st.extra[kHooksConfig] = config_path;
}

std::optional<spec::Hooks> recorded_hooks(const std::string &dir, const state::ContainerState &st) {
    if (st.extra.find(kHooksConfig) == st.extra.end())
        return std::nullopt;
    return kept_config(dir, st).hooks;
}

void run_poststop(const state::Container &c) noexcept {
    try {
        const state::ContainerState &st = c.state();
        std::optional<spec::Hooks> h = recorded_hooks(c.dir(), st);
        if (h && !h->poststop.empty())
            hooks::run_warn_only("poststop", h->poststop, hook_state_json(st, state::Status::Stopped, 0));
    } catch (const std::exception &e) {
        log::warn(std::string("poststop hooks: ") + e.what());
    }
}

} // namespace crunpp::container
