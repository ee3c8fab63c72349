// SPDX-License-Identifier: GPL-2.0-or-later
// `ps [--format table|json] ID [-- PS OPTIONS]`: the processes in the
// container's cgroup; the table is the host's `ps` output (default -ef)
// filtered to them, json the list of pids.
#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "cgroup_commands.hpp"
#include "crunpp/cgroup.hpp"
#include "crunpp/unique_fd.hpp"

extern char **environ;

namespace crunpp::cli {
namespace {

std::string run_host_ps(const std::vector<std::string> &ps_args) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        throw_errno("ps: pipe");
    UniqueFd rd(p[0]), wr(p[1]);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, wr.get(), STDOUT_FILENO);
    std::vector<std::string> argv_s = {"ps"};
    argv_s.insert(argv_s.end(), ps_args.begin(), ps_args.end());
    std::vector<char *> argv;
    for (std::string &s : argv_s)
        argv.push_back(s.data());
    argv.push_back(nullptr);
    pid_t pid;
    int err = posix_spawnp(&pid, "ps", &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err != 0)
        throw_errno("ps: run the host's ps", err);
    wr.reset();
    std::string out;
    char buf[8192];
    ssize_t n;
    while ((n = read(rd.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            out.append(buf, static_cast<size_t>(n));
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw Error("ps: the host's ps failed (exit status " + std::to_string(WEXITSTATUS(status)) + ")");
    return out;
}

std::vector<std::string> words(const std::string &line) {
    std::vector<std::string> w;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ')
            i++;
        size_t b = i;
        while (i < line.size() && line[i] != ' ')
            i++;
        if (i > b)
            w.push_back(line.substr(b, i - b));
    }
    return w;
}

std::string filter_table(const std::string &table, const std::vector<pid_t> &pids) {
    size_t nl = table.find('\n');
    std::string header = table.substr(0, nl);
    std::vector<std::string> cols = words(header);
    auto col = std::find(cols.begin(), cols.end(), "PID");
    if (col == cols.end())
        throw Error("ps: the ps output has no PID column (add -o pid)");
    size_t index = static_cast<size_t>(col - cols.begin());
    std::string out = header + "\n";
    size_t pos = nl == std::string::npos ? table.size() : nl + 1;
    while (pos < table.size()) {
        size_t e = table.find('\n', pos);
        if (e == std::string::npos)
            e = table.size();
        std::string line = table.substr(pos, e - pos);
        pos = e + 1;
        std::vector<std::string> w = words(line);
        if (w.size() <= index)
            continue;
        char *end;
        long pid = strtol(w[index].c_str(), &end, 10);
        if (*end == '\0' && std::binary_search(pids.begin(), pids.end(), static_cast<pid_t>(pid)))
            out += line + "\n";
    }
    return out;
}

int run_ps(const GlobalOptions &g, const ParsedArgs &a) {
    if (a.positional.empty())
        require_positional("ps", a, 1, 1, "container ID");
    std::string format = a.get_or("format", "table");
    if (format != "table" && format != "json")
        throw Error("ps: --format: \"" + format + "\" is not table or json");
    std::vector<std::string> ps_args(a.positional.begin() + 1, a.positional.end());
    if (!ps_args.empty() && ps_args.front() == "--")
        ps_args.erase(ps_args.begin());
    const std::string &id = a.positional[0];
    std::vector<pid_t> pids;
    {
        // A stopped container lists what is left in its cgroup (none with its
        // own pid namespace), as runc does: containerd asks for the pids of
        // exited tasks too.
        state::Container c = open_container(
            g, "ps", id,
            {state::Status::Created, state::Status::Running, state::Status::Paused, state::Status::Stopped});
        if (c.state().cgroup_paths.empty())
            throw Error("ps container " + id + ": it has no cgroup");
        pids = cgroup::pids(c.state().cgroup_paths);
    }
    if (format == "json") {
        if (!ps_args.empty())
            throw Error("ps: ps options cannot be used with --format json");
        std::string s = "[";
        for (size_t i = 0; i < pids.size(); i++) {
            if (i)
                s += ',';
            s += std::to_string(pids[i]);
        }
        out(s + "]\n");
        return 0;
    }
    if (ps_args.empty())
        ps_args = {"-ef"};
    out(filter_table(run_host_ps(ps_args), pids));
    return 0;
}

} // namespace

extern const Command kPsCommand;
const Command kPsCommand = {"ps",
                            "ID [-- PS OPTIONS]",
                            "list the processes of a container",
                            {{"format", 'f', true, "table (the host's ps output, default) or json (the pids)"}},
                            run_ps,
                            true};

} // namespace crunpp::cli
