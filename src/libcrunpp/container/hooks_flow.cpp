// SPDX-License-Identifier: GPL-2.0-or-later
#include "hooks_flow.hpp"

#include "../hooks/hooks.hpp"
#include "crunpp/error.hpp"
#include "crunpp/log.hpp"

namespace crunpp::container {
namespace {

// The state's extra key holding the config path.
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

std::optional<spec::Hooks> recorded_hooks(const state::ContainerState &st) {
    auto it = st.extra.find(kHooksConfig);
    if (it == st.extra.end())
        return std::nullopt;
    spec::Config cfg = spec::load_config(it->second);
    return cfg.hooks;
}

void run_poststop(const state::ContainerState &st) noexcept {
    try {
        std::optional<spec::Hooks> h = recorded_hooks(st);
        if (h && !h->poststop.empty())
            hooks::run_warn_only("poststop", h->poststop, hook_state_json(st, state::Status::Stopped, 0));
    } catch (const std::exception &e) {
        log::warn(std::string("poststop hooks: ") + e.what());
    }
}

} // namespace crunpp::container
