// SPDX-License-Identifier: GPL-2.0-or-later
#include "hooks_flow.hpp"

#include <fcntl.h>

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

hooks::RunOptions HookOutput::options(std::string cwd) const {
    hooks::RunOptions o;
    o.cwd = std::move(cwd);
    o.stdout_fd = out.get();
    o.stderr_fd = err.get();
    return o;
}

HookOutput open_hook_output(const std::map<std::string, std::string> &annotations, bool has_hooks) {
    HookOutput h;
    if (!has_hooks)
        return h;
    auto open_one = [&](const char *key) {
        auto it = annotations.find(key);
        if (it == annotations.end())
            return UniqueFd();
        UniqueFd fd(open(it->second.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
        if (!fd)
            throw_errno(std::string("config.json: .annotations[\"") + key + "\"]: open \"" + it->second + "\"");
        return fd;
    };
    h.out = open_one(kHooksStdoutAnnotation);
    h.err = open_one(kHooksStderrAnnotation);
    return h;
}

std::string hook_state_json(state::ContainerState st, state::Status status, pid_t pid) {
    st.status = status;
    st.pid = pid;
    return state::to_oci_json(st, false, state::PidWhenNone::Omitted);
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
        if (h && !h->poststop.empty()) {
            HookOutput out = open_hook_output(st.annotations, true);
            hooks::run_warn_only("poststop", h->poststop, hook_state_json(st, state::Status::Stopped, 0),
                                 out.options());
        }
    } catch (const std::exception &e) {
        log::warn(std::string("poststop hooks: ") + e.what());
    }
}

} // namespace crunpp::container
