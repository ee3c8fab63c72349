// SPDX-License-Identifier: GPL-2.0-or-later
#include "kept_config.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "crunpp/error.hpp"
#include "crunpp/unique_fd.hpp"
#include "launch.hpp"

namespace crunpp::container {
namespace {

constexpr const char *kKeptConfig = "config.json";

} // namespace

void keep_config(const state::Container &c, std::string_view text) {
    UniqueFd fd(openat(c.dir_fd(), kKeptConfig, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd)
        throw_errno("keep the config in " + c.dir());
    while (!text.empty()) {
        ssize_t n = write(fd.get(), text.data(), text.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw_errno("keep the config in " + c.dir());
        text.remove_prefix(static_cast<size_t>(n));
    }
}

spec::Config kept_config(const std::string &dir, const state::ContainerState &st) {
    const std::string kept = dir + "/" + kKeptConfig;
    if (access(kept.c_str(), F_OK) == 0 || errno != ENOENT)
        return spec::load_config(kept);
    auto it = st.extra.find(kStateConfigPath);
    return spec::load_config(it != st.extra.end() ? it->second : st.bundle + "/config.json");
}

} // namespace crunpp::container
