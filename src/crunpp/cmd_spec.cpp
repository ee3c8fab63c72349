// SPDX-License-Identifier: GPL-2.0-or-later
// `crunpp spec`: writes the default config.json into a bundle directory.
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "cli.hpp"
#include "crunpp/error.hpp"
#include "crunpp/spec.hpp"
#include "crunpp/unique_fd.hpp"

namespace crunpp::cli {
namespace {

// runc adds a cgroup namespace only where the host has the unified (v2)
// hierarchy: on v1 or hybrid hosts its cgroup mount then shows the host's
// paths, which tools inside do not expect.
bool host_has_unified_cgroup() {
    struct statfs st;
    return ::statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

void write_all(int fd, std::string_view data, const std::string &path) {
    while (!data.empty()) {
        ssize_t w = ::write(fd, data.data(), data.size());
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            throw_errno("spec: write " + path);
        data.remove_prefix(static_cast<size_t>(w));
    }
}

int run_spec(const GlobalOptions &, const ParsedArgs &args) {
    require_positional("spec", args, 0, 0, "no arguments");
    bool rootless = args.has("rootless");
    spec::Config config = spec::default_config(rootless, static_cast<uint32_t>(::geteuid()),
                                               static_cast<uint32_t>(::getegid()));
    if (host_has_unified_cgroup()) {
        spec::Namespace cgroup;
        cgroup.type = spec::NamespaceType::Cgroup;
        // runc appends it before the rootless conversion; the user namespace
        // stays last either way.
        auto &ns = config.linux->namespaces;
        auto pos = ns.end();
        if (rootless && !ns.empty() && ns.back().type == spec::NamespaceType::User)
            pos = ns.end() - 1;
        ns.insert(pos, cgroup);
    }
    std::string text = spec::to_json(config, true);

    std::string bundle = args.get_or("bundle", "");
    const std::string file = args.get_or("file", "config.json");
    if (file.empty())
        throw Error("spec: --file: empty file name");
    std::string path = bundle.empty() || file[0] == '/' ? file : bundle + "/" + file;
    UniqueFd dir(::open(bundle.empty() ? "." : bundle.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir)
        throw_errno("spec: bundle directory \"" + (bundle.empty() ? std::string(".") : bundle) + "\"");
    // O_EXCL: never replace a config someone wrote, even if it appears
    // between a check and the write. 0666 & ~umask, as runc creates it.
    UniqueFd fd(::openat(dir.get(), file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666));
    if (!fd) {
        if (errno == EEXIST)
            throw Error("spec: " + path + " already exists; remove it first");
        throw_errno("spec: create " + path);
    }
    try {
        write_all(fd.get(), text, path);
        if (::close(fd.release()) < 0)
            throw_errno("spec: write " + path);
    } catch (...) {
        // A half-written config would be refused by the next `spec` and
        // break `run`; leave nothing.
        ::unlinkat(dir.get(), file.c_str(), 0);
        throw;
    }
    return 0;
}

} // namespace

extern const Command kSpecCommand;
const Command kSpecCommand = {
    "spec",
    "",
    "create a new specification file (config.json) in the bundle directory",
    {
        {"bundle", 'b', true, "path to the bundle directory (default: the current directory)"},
        {"rootless", 0, false, "generate a configuration for a rootless container"},
        {"file", 'f', true, "the file to write instead of config.json (relative to the bundle; crun)"},
    },
    run_spec,
};

} // namespace crunpp::cli
