// SPDX-License-Identifier: GPL-2.0-or-later
// Namespaces and id maps: /etc/subuid parsing, rootless mappings, the
// decision how maps are written, real map writes (as root directly, as the
// unprivileged user crunpp-test through newuidmap), namespace files, joining
// and the time namespace.
#include "src/libcrunpp/linux/ns/userns.hpp"

#include <crunpp/error.hpp>

#include <catch.hpp>

#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

using crunpp::Error;
using crunpp::UniqueFd;
using crunpp::linux::SubIdRange;
using crunpp::spec::IdMapping;
using crunpp::spec::NamespaceType;
namespace ln = crunpp::linux;

namespace {

bool operator_eq(const IdMapping &a, const IdMapping &b) {
    return a.containerID == b.containerID && a.hostID == b.hostID && a.size == b.size;
}

bool same_maps(const std::vector<IdMapping> &a, const std::vector<IdMapping> &b) {
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (!operator_eq(a[i], b[i]))
            return false;
    return true;
}

// A temporary file removed at scope exit.
struct TempFile {
    std::string path;
    explicit TempFile(const std::string &content) {
        char tmpl[] = "/tmp/crunpp-test-subid-XXXXXX";
        int fd = mkstemp(tmpl);
        REQUIRE(fd >= 0);
        path = tmpl;
        REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
        ::close(fd);
    }
    ~TempFile() { ::unlink(path.c_str()); }
};

std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return out;
        out.append(buf, static_cast<size_t>(n));
    }
}

void write_str(int fd, const std::string &s) {
    if (::write(fd, s.data(), s.size()) != static_cast<ssize_t>(s.size()))
        _exit(3);
}

// Runs `fn` in a forked child (bounded by an alarm) and returns what it
// returned, or "error: <what>" when it threw an Error.
std::string in_child(const std::function<std::string()> &fn) {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(p[0]);
        alarm(20);
        std::string out;
        try {
            out = fn();
        } catch (const Error &e) {
            out = std::string("error: ") + e.what();
        } catch (...) {
            out = "error: unexpected exception";
        }
        write_str(p[1], out);
        _exit(0);
    }
    ::close(p[1]);
    std::string out = read_all(p[0]);
    ::close(p[0]);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    return out;
}

struct RunResult {
    int status = -1;
    std::string out, err;
};

// Runs argv (absolute path) and collects stdout and stderr (small outputs).
RunResult run(const std::vector<std::string> &args) {
    std::vector<char *> argv;
    std::vector<std::string> copy = args;
    for (std::string &a : copy)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    int out[2], err[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    pid_t pid;
    int e = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    ::close(err[1]);
    REQUIRE(e == 0);
    RunResult r;
    r.out = read_all(out[0]); // the probe's output fits in the pipe's buffer
    r.err = read_all(err[0]);
    ::close(out[0]);
    ::close(err[0]);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

// build/tests/unit-tests -> build/tests/helpers/userns-probe
std::string probe_path() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    REQUIRE(n > 0);
    std::string self(buf, static_cast<size_t>(n));
    return self.substr(0, self.rfind('/')) + "/helpers/userns-probe";
}

std::string map_arg(const std::vector<IdMapping> &m) {
    std::string s;
    for (const IdMapping &e : m) {
        if (!s.empty())
            s += ',';
        s += std::to_string(e.containerID) + ":" + std::to_string(e.hostID) + ":" + std::to_string(e.size);
    }
    return s;
}

std::string map_seen(const std::vector<IdMapping> &m) {
    std::string s;
    for (const IdMapping &e : m) {
        if (!s.empty())
            s += ',';
        s += std::to_string(e.containerID) + " " + std::to_string(e.hostID) + " " + std::to_string(e.size);
    }
    return s;
}

bool contains(const std::string &haystack, const std::string &needle) {
    return haystack.find(needle) != std::string::npos;
}

} // namespace

TEST_CASE("read_subid_ranges: names, uids, comments and bad lines", "[userns]") {
    TempFile f("# a comment\n"
               "\n"
               "alice:100000:65536\n"
               "bob:300000:65536\n"
               "   \n"
               "1000:500000:10\n"
               "alice:700000:5\r\n"
               "alice:abc:10\n"        // not a number
               "alice:10:0\n"          // empty range
               "alice:4294967295:2\n"  // beyond the 32-bit id space
               "alice:1:2:3\n"         // too many fields
               "alice:-5:10\n"         // negative
               ":1:2\n"                // no owner
               "garbage\n"
               "alice:900000:7");      // last line without newline
    auto r = ln::read_subid_ranges(f.path, "alice", 1000);
    REQUIRE(r == std::vector<SubIdRange>{{100000, 65536}, {500000, 10}, {700000, 5}, {900000, 7}});
    REQUIRE(ln::read_subid_ranges(f.path, "bob", 1001) == std::vector<SubIdRange>{{300000, 65536}});
    // numeric match alone (a user without a name)
    REQUIRE(ln::read_subid_ranges(f.path, "", 1000) == std::vector<SubIdRange>{{500000, 10}});
    REQUIRE(ln::read_subid_ranges(f.path, "carol", 1002).empty());
    // "alice" must not match "alic" or a longer name
    REQUIRE(ln::read_subid_ranges(f.path, "alic", 1003).empty());
}

TEST_CASE("read_subid_ranges: a missing file has no ranges, a directory is an error", "[userns]") {
    REQUIRE(ln::read_subid_ranges("/nonexistent/subuid", "alice", 1000).empty());
    REQUIRE_THROWS_WITH(ln::read_subid_ranges("/tmp", "alice", 1000), Catch::Contains("read /tmp"));
}

TEST_CASE("rootless_mappings: own id first, then the ranges when the helper exists", "[userns]") {
    std::vector<SubIdRange> ranges{{100000, 65536}, {300000, 10}};
    REQUIRE(same_maps(ln::rootless_mappings(1000, ranges, true),
                      {{0, 1000, 1}, {1, 100000, 65536}, {65537, 300000, 10}}));
    REQUIRE(same_maps(ln::rootless_mappings(1000, ranges, false), {{0, 1000, 1}}));
    REQUIRE(same_maps(ln::rootless_mappings(1000, {}, true), {{0, 1000, 1}}));
    // never more than the kernel's 340 lines, never past 2^32 container ids
    std::vector<SubIdRange> many(400, SubIdRange{100000, 1});
    REQUIRE(ln::rootless_mappings(1000, many, true).size() == 340);
    auto huge = ln::rootless_mappings(1000, {{1, 4294967295u}}, true);
    REQUIRE(same_maps(huge, {{0, 1000, 1}, {1, 1, 4294967295u}}));
    REQUIRE(same_maps(ln::rootless_mappings(1000, {{1, 4294967295u}, {5, 1}}, true), huge));
}

TEST_CASE("auto_rootless_mappings follows /etc/subuid and /etc/subgid", "[userns]") {
    // a uid nobody has ranges for: only the one id
    auto none = ln::auto_rootless_mappings(3999999, 3999998);
    REQUIRE(same_maps(none.uid, {{0, 3999999, 1}}));
    REQUIRE(same_maps(none.gid, {{0, 3999998, 1}}));

    struct passwd *pw = getpwnam("crunpp-test");
    if (!pw) {
        WARN("user crunpp-test does not exist: skipping the subuid part");
        return;
    }
    auto m = ln::auto_rootless_mappings(pw->pw_uid, pw->pw_gid);
    auto want_uid = ln::rootless_mappings(pw->pw_uid, ln::read_subid_ranges("/etc/subuid", "crunpp-test", pw->pw_uid),
                                          ::access("/usr/bin/newuidmap", X_OK) == 0);
    auto want_gid = ln::rootless_mappings(pw->pw_gid, ln::read_subid_ranges("/etc/subgid", "crunpp-test", pw->pw_uid),
                                          ::access("/usr/bin/newgidmap", X_OK) == 0);
    REQUIRE(same_maps(m.uid, want_uid));
    REQUIRE(same_maps(m.gid, want_gid));
    REQUIRE(m.uid.size() >= 2); // the test setup gives crunpp-test ranges
}

TEST_CASE("plan_id_mapping_writes: direct when the kernel allows, else the helpers", "[userns]") {
    using P = ln::MapWritePlan;
    const ln::MapWriterIds root{0, 0, true, true};
    const ln::MapWriterIds user{1000, 1000, false, false};
    const std::vector<IdMapping> own_u{{0, 1000, 1}}, own_g{{0, 1000, 1}};
    const std::vector<IdMapping> ranges{{0, 1000, 1}, {1, 100000, 65536}};

    REQUIRE(ln::plan_id_mapping_writes(ranges, ranges, root) == P{true, true, false});
    REQUIRE(ln::plan_id_mapping_writes({{0, 0, 4294967295u}}, {{0, 0, 4294967295u}}, root) == P{true, true, false});
    // an unprivileged caller mapping only itself: direct, setgroups denied
    REQUIRE(ln::plan_id_mapping_writes(own_u, own_g, user) == P{true, true, true});
    REQUIRE(ln::plan_id_mapping_writes(ranges, ranges, user) == P{false, false, false});
    REQUIRE(ln::plan_id_mapping_writes(own_u, ranges, user) == P{true, false, false});
    REQUIRE(ln::plan_id_mapping_writes(ranges, own_g, user) == P{false, true, true});
    // someone else's id, or more than one id of its own: helper
    REQUIRE(ln::plan_id_mapping_writes({{0, 1001, 1}}, {{0, 1001, 1}}, user) == P{false, false, false});
    REQUIRE(ln::plan_id_mapping_writes({{0, 1000, 2}}, {{0, 1000, 2}}, user) == P{false, false, false});
    // only one of the two capabilities
    REQUIRE(ln::plan_id_mapping_writes(ranges, ranges, {1000, 1000, true, false}) == P{true, false, false});
    REQUIRE(ln::plan_id_mapping_writes(ranges, own_g, {1000, 1000, true, false}) == P{true, true, true});
    REQUIRE(ln::plan_id_mapping_writes(ranges, ranges, {0, 0, false, true}) == P{false, true, false});
}

TEST_CASE("current_map_writer reports the caller", "[userns]") {
    auto w = ln::current_map_writer();
    REQUIRE(w.euid == ::geteuid());
    REQUIRE(w.egid == ::getegid());
    if (::geteuid() == 0)
        REQUIRE(w.cap_setuid);
}

TEST_CASE("format_id_map", "[userns]") {
    REQUIRE(ln::format_id_map({{0, 1000, 1}, {1, 100000, 65536}}) == "0 1000 1\n1 100000 65536\n");
    REQUIRE(ln::format_id_map({}).empty());
}

TEST_CASE("write_id_mappings: bad input and a missing process", "[userns]") {
    REQUIRE_THROWS_WITH(ln::write_id_mappings(1, {}, {{0, 0, 1}}), Catch::Contains("no uid mappings"));
    REQUIRE_THROWS_WITH(ln::write_id_mappings(1, {{0, 0, 1}}, {}), Catch::Contains("no gid mappings"));
    if (::geteuid() != 0) {
        WARN("not root: skipping the direct write to a missing pid");
        return;
    }
    // above any pid_max
    REQUIRE_THROWS_WITH(ln::write_id_mappings(1 << 30, {{0, 0, 1}}, {{0, 0, 1}}),
                        Catch::Contains("open /proc/1073741824") && Catch::Contains("No such file"));
}

TEST_CASE("write_id_mappings as root writes the maps directly", "[userns]") {
    if (::geteuid() != 0) {
        WARN("not root: skipping");
        return;
    }
    auto r = run({probe_path(), "0:100000:65536", "0:200000:1000,1000:0:1"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    REQUIRE(r.out == "uid_map 0 100000 65536\ngid_map 0 200000 1000,1000 0 1\nsetgroups allow\n");

    // the kernel's refusal (overlapping ranges) comes back with the map text
    r = run({probe_path(), "0:100000:10,5:300000:10", "0:100000:1"});
    REQUIRE(r.status == 1);
    REQUIRE(contains(r.err, "write /proc/"));
    REQUIRE(contains(r.err, "/uid_map \"0 100000 10, 5 300000 10\": Invalid argument"));
}

TEST_CASE("write_id_mappings as an unprivileged user: direct for its own id, newuidmap for ranges",
          "[userns]") {
    if (::geteuid() != 0) {
        WARN("not root: cannot switch to crunpp-test");
        return;
    }
    struct passwd *pw = getpwnam("crunpp-test");
    if (!pw) {
        WARN("user crunpp-test does not exist: skipping");
        return;
    }
    const uint32_t uid = pw->pw_uid, gid = pw->pw_gid;
    const std::string probe = probe_path();
    struct stat st;
    REQUIRE(::stat(probe.c_str(), &st) == 0);
    auto as_user = [&](const std::string &umap, const std::string &gmap) {
        return run({"/usr/bin/setpriv", "--reuid=" + std::to_string(uid), "--regid=" + std::to_string(gid),
                    "--clear-groups", probe, umap, gmap});
    };

    // its own ids only: written directly, with setgroups denied
    std::vector<IdMapping> own_u{{0, uid, 1}}, own_g{{0, gid, 1}};
    auto r = as_user(map_arg(own_u), map_arg(own_g));
    INFO(r.err);
    REQUIRE(r.status == 0);
    REQUIRE(r.out == "uid_map " + map_seen(own_u) + "\ngid_map " + map_seen(own_g) + "\nsetgroups deny\n");

    // the automatic rootless mappings: through newuidmap/newgidmap
    auto ranges_u = ln::read_subid_ranges("/etc/subuid", "crunpp-test", uid);
    auto ranges_g = ln::read_subid_ranges("/etc/subgid", "crunpp-test", uid);
    if (ranges_u.empty() || ranges_g.empty()) {
        WARN("crunpp-test has no subuid/subgid ranges: skipping the newuidmap part");
        return;
    }
    auto mu = ln::rootless_mappings(uid, ranges_u, true);
    auto mg = ln::rootless_mappings(gid, ranges_g, true);
    r = as_user(map_arg(mu), map_arg(mg));
    INFO(r.err);
    REQUIRE(r.status == 0);
    REQUIRE(contains(r.out, "uid_map " + map_seen(mu) + "\ngid_map " + map_seen(mg) + "\n"));

    // ranges the user does not own: newuidmap's refusal is the error message
    r = as_user(map_arg({{0, uid, 1}, {1, 5000, 10}}), map_arg(own_g));
    REQUIRE(r.status == 1);
    REQUIRE(contains(r.err, "write uid mappings of pid "));
    REQUIRE(contains(r.err, "with /usr/bin/newuidmap: newuidmap: uid range"));
    REQUIRE(contains(r.err, "not allowed"));
    r = as_user(map_arg(own_u), map_arg({{0, gid, 1}, {1, 5000, 10}}));
    REQUIRE(r.status == 1);
    REQUIRE(contains(r.err, "with /usr/bin/newgidmap: newgidmap: gid range"));
}

TEST_CASE("clone flags of the config's namespaces", "[userns]") {
    crunpp::spec::Linux l;
    REQUIRE(ln::namespaces_to_create(l) == 0);
    l.namespaces = {{NamespaceType::Pid, {}},
                    {NamespaceType::Network, std::string("/proc/1/ns/net")},
                    {NamespaceType::Mount, {}},
                    {NamespaceType::User, {}},
                    {NamespaceType::Time, {}},
                    {NamespaceType::Cgroup, {}},
                    {NamespaceType::Ipc, {}},
                    {NamespaceType::Uts, std::string()}};
    REQUIRE(ln::namespaces_to_create(l) ==
            (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWCGROUP | CLONE_NEWIPC | CLONE_NEWUTS));
    REQUIRE(ln::clone_flag_of(NamespaceType::Time) == CLONE_NEWTIME);
    REQUIRE(ln::clone_flag_of(NamespaceType::Network) == CLONE_NEWNET);
}

TEST_CASE("open_namespace checks the namespace type", "[userns]") {
    const std::pair<const char *, NamespaceType> all[] = {
        {"/proc/self/ns/mnt", NamespaceType::Mount},   {"/proc/self/ns/pid", NamespaceType::Pid},
        {"/proc/self/ns/net", NamespaceType::Network}, {"/proc/self/ns/uts", NamespaceType::Uts},
        {"/proc/self/ns/ipc", NamespaceType::Ipc},     {"/proc/self/ns/user", NamespaceType::User},
        {"/proc/self/ns/cgroup", NamespaceType::Cgroup}, {"/proc/self/ns/time", NamespaceType::Time},
    };
    for (const auto &[path, type] : all) {
        INFO(path);
        UniqueFd fd = ln::open_namespace(path, type);
        REQUIRE(fd.get() >= 0);
        REQUIRE((::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC) != 0);
    }
    REQUIRE_THROWS_WITH(ln::open_namespace("/proc/self/ns/mnt", NamespaceType::Network),
                        "open network namespace /proc/self/ns/mnt: wrong namespace type: mount");
    REQUIRE_THROWS_WITH(ln::open_namespace("/proc/self/ns/user", NamespaceType::Pid),
                        "open pid namespace /proc/self/ns/user: wrong namespace type: user");
    TempFile regular("not a namespace");
    REQUIRE_THROWS_WITH(ln::open_namespace(regular.path, NamespaceType::Uts),
                        "open uts namespace " + regular.path + ": not a namespace file");
    REQUIRE_THROWS_WITH(ln::open_namespace("/nonexistent/ns", NamespaceType::Ipc),
                        "open ipc namespace /nonexistent/ns: No such file or directory");
    // a FIFO does not block the open
    std::string fifo = regular.path + ".fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THROWS_WITH(ln::open_namespace(fifo, NamespaceType::Network), Catch::Contains("not a namespace file"));
    ::unlink(fifo.c_str());
}

TEST_CASE("open_config_namespaces names the JSON path", "[userns]") {
    crunpp::spec::Linux l;
    l.namespaces = {{NamespaceType::Pid, {}},
                    {NamespaceType::Network, std::string("/proc/self/ns/net")},
                    {NamespaceType::Uts, std::string("/proc/self/ns/ipc")}};
    REQUIRE_THROWS_WITH(ln::open_config_namespaces(l),
                        "config.json: .linux.namespaces[2].path: open uts namespace /proc/self/ns/ipc: wrong namespace type: ipc");
    l.namespaces.pop_back();
    l.namespaces.push_back({NamespaceType::Ipc, std::string()}); // empty: created, not joined
    auto fds = ln::open_config_namespaces(l);
    REQUIRE(fds.size() == 1);
    REQUIRE(fds[0].first == NamespaceType::Network);
    REQUIRE(fds[0].second.get() >= 0);
}

TEST_CASE("join_namespaces: user namespace and a namespace it owns, as root and unprivileged", "[userns]") {
    if (::geteuid() != 0) {
        WARN("not root: skipping");
        return;
    }
    struct passwd *pw = getpwnam("crunpp-test");
    const uid_t uid = pw ? pw->pw_uid : 65534;
    const gid_t gid = pw ? pw->pw_gid : 65534;

    // A: as `uid`, in a new user namespace with a uts namespace it owns.
    int ready[2], hold[2];
    REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(hold, O_CLOEXEC) == 0);
    pid_t a = ::fork();
    REQUIRE(a >= 0);
    if (a == 0) {
        alarm(20);
        char c = 'x';
        if (::setresgid(gid, gid, gid) == 0 && ::setresuid(uid, uid, uid) == 0 && ::unshare(CLONE_NEWUSER) == 0 &&
            ::unshare(CLONE_NEWUTS) == 0 && ::sethostname("h8-joined", 9) == 0)
            c = 'r';
        (void)!::write(ready[1], &c, 1);
        (void)!::read(hold[0], &c, 1); // until the test closes the pipe
        _exit(0);
    }
    ::close(ready[1]);
    ::close(hold[0]);
    char c = 0;
    REQUIRE(::read(ready[0], &c, 1) == 1);
    ::close(ready[0]);
    const std::string base = "/proc/" + std::to_string(a) + "/ns/";

    auto join = [&](bool drop_privileges) {
        return in_child([&]() -> std::string {
            ln::NamespaceFds fds;
            fds.emplace_back(NamespaceType::Uts, ln::open_namespace(base + "uts", NamespaceType::Uts));
            fds.emplace_back(NamespaceType::User, ln::open_namespace(base + "user", NamespaceType::User));
            if (drop_privileges && (::setresgid(gid, gid, gid) < 0 || ::setresuid(uid, uid, uid) < 0))
                return "setresuid failed";
            ln::join_namespaces(fds);
            char host[64] = {};
            ::gethostname(host, sizeof host - 1);
            bool closed = !fds[0].second && !fds[1].second;
            std::ifstream f("/proc/self/uid_map");
            std::string line;
            std::getline(f, line);
            return std::string(host) + (closed ? " closed" : " open") + (line.empty() ? " unmapped" : " mapped");
        });
    };
    std::string as_root = join(false);
    // unprivileged: uts is refused before the user namespace and joined after it
    std::string as_user = join(true);
    // root joining the host's uts namespace (owned by the initial user
    // namespace) along with A's user namespace: only possible before the latter
    char host_name[64] = {};
    ::gethostname(host_name, sizeof host_name - 1);
    const std::string host_uts = "/proc/" + std::to_string(::getpid()) + "/ns/uts";
    std::string back_home = in_child([&]() -> std::string {
        if (::unshare(CLONE_NEWUTS) < 0 || ::sethostname("h8-elsewhere", 12) < 0)
            return "unshare failed";
        ln::NamespaceFds fds;
        fds.emplace_back(NamespaceType::User, ln::open_namespace(base + "user", NamespaceType::User));
        fds.emplace_back(NamespaceType::Uts, ln::open_namespace(host_uts, NamespaceType::Uts));
        ln::join_namespaces(fds);
        char h[64] = {};
        ::gethostname(h, sizeof h - 1);
        return h;
    });

    ::close(hold[1]);
    int status;
    REQUIRE(::waitpid(a, &status, 0) == a);
    REQUIRE(c == 'r');
    REQUIRE(as_root == "h8-joined closed unmapped");
    REQUIRE(as_user == "h8-joined closed unmapped");
    REQUIRE(back_home == host_name);
}

TEST_CASE("join_namespaces reports a refused setns", "[userns]") {
    std::string out = in_child([]() -> std::string {
        // the caller's own user namespace cannot be joined again (EINVAL)
        ln::NamespaceFds fds;
        fds.emplace_back(NamespaceType::User, ln::open_namespace("/proc/self/ns/user", NamespaceType::User));
        ln::join_namespaces(fds);
        return "joined";
    });
    REQUIRE(out == "error: join the user namespace (setns): Invalid argument");
}

TEST_CASE("format_time_offsets", "[userns]") {
    crunpp::spec::TimeOffsets o;
    REQUIRE(ln::format_time_offsets(o).empty());
    o.monotonic = crunpp::spec::TimeOffset{1000, 5};
    o.boottime = crunpp::spec::TimeOffset{-20, 0};
    REQUIRE(ln::format_time_offsets(o) == "monotonic 1000 5\nboottime -20 0\n");
}

namespace {
// CAP_SYS_TIME for the time namespace: root has it, anyone else gets it in a
// new user namespace (as a rootless container's init does).
void gain_cap_sys_time() {
    if (::geteuid() != 0 && ::unshare(CLONE_NEWUSER) < 0)
        crunpp::throw_errno("unshare(CLONE_NEWUSER)");
}
} // namespace

TEST_CASE("enter_time_namespace shifts the clocks of the process itself", "[userns]") {
    struct timespec before;
    ::clock_gettime(CLOCK_MONOTONIC, &before);
    std::string out = in_child([&]() -> std::string {
        crunpp::spec::TimeOffsets o;
        o.monotonic = crunpp::spec::TimeOffset{1000, 0};
        o.boottime = crunpp::spec::TimeOffset{2000, 0};
        gain_cap_sys_time();
        ln::enter_time_namespace(o);
        struct timespec mono, boot;
        ::clock_gettime(CLOCK_MONOTONIC, &mono);
        ::clock_gettime(CLOCK_BOOTTIME, &boot);
        char own[64] = {}, children[64] = {};
        (void)!::readlink("/proc/self/ns/time", own, sizeof own - 1);
        (void)!::readlink("/proc/self/ns/time_for_children", children, sizeof children - 1);
        return std::to_string(mono.tv_sec) + " " + std::to_string(boot.tv_sec) + " " +
               (std::strcmp(own, children) == 0 ? "same" : "different");
    });
    INFO(out);
    long mono = 0, boot = 0;
    char same[16] = {};
    REQUIRE(std::sscanf(out.c_str(), "%ld %ld %15s", &mono, &boot, same) == 3);
    struct timespec after_boot;
    ::clock_gettime(CLOCK_BOOTTIME, &after_boot);
    REQUIRE(mono - before.tv_sec >= 1000);
    REQUIRE(mono - before.tv_sec < 1000 + 20);
    REQUIRE(boot - after_boot.tv_sec >= 2000 - 20);
    REQUIRE(boot - after_boot.tv_sec <= 2000);
    REQUIRE(std::string(same) == "same");

    // no offsets: a new time namespace all the same
    out = in_child([]() -> std::string {
        char outer[64] = {}, inner[64] = {};
        (void)!::readlink("/proc/self/ns/time", outer, sizeof outer - 1);
        gain_cap_sys_time();
        ln::enter_time_namespace({});
        (void)!::readlink("/proc/self/ns/time", inner, sizeof inner - 1);
        return std::strcmp(outer, inner) != 0 ? "entered" : "not entered";
    });
    REQUIRE(out == "entered");
}

TEST_CASE("enter_time_namespace: an offset making the clock negative is an error", "[userns]") {
    std::string out = in_child([]() -> std::string {
        crunpp::spec::TimeOffsets o;
        o.monotonic = crunpp::spec::TimeOffset{-1000000000000, 0};
        gain_cap_sys_time();
        ln::enter_time_namespace(o);
        return "entered";
    });
    REQUIRE(out == "error: write /proc/self/timens_offsets \"monotonic -1000000000000 0\": Numerical result out of "
                   "range");
}

TEST_CASE("enter_time_namespace without privileges is an error", "[userns]") {
    std::string out = in_child([]() -> std::string {
        if (::geteuid() == 0 && (::setresgid(65534, 65534, 65534) < 0 || ::setresuid(65534, 65534, 65534) < 0))
            return "setresuid failed";
        ln::enter_time_namespace({});
        return "entered";
    });
    REQUIRE(out == "error: create a time namespace (unshare): Operation not permitted");
}

namespace {
// A child in a new user namespace mapped 0 -> 100000 (by its parent, as
// root) enters a time namespace before or after becoming root in it.
std::string time_namespace_in_mapped_userns(bool after_setresuid) {
    return in_child([after_setresuid]() -> std::string {
        int ready[2], go[2], result[2];
        if (::pipe2(ready, O_CLOEXEC) < 0 || ::pipe2(go, O_CLOEXEC) < 0 || ::pipe2(result, O_CLOEXEC) < 0)
            return "pipe failed";
        pid_t pid = ::fork();
        if (pid < 0)
            return "fork failed";
        if (pid == 0) {
            char c = 'r';
            std::string out;
            try {
                if (::unshare(CLONE_NEWUSER) < 0)
                    crunpp::throw_errno("unshare");
                (void)!::write(ready[1], &c, 1);
                if (::read(go[0], &c, 1) != 1)
                    _exit(1);
                crunpp::spec::TimeOffsets o;
                o.monotonic = crunpp::spec::TimeOffset{500, 0};
                if (!after_setresuid)
                    ln::enter_time_namespace(o);
                if (::setresgid(0, 0, 0) < 0 || ::setresuid(0, 0, 0) < 0)
                    crunpp::throw_errno("setresuid");
                if (after_setresuid)
                    ln::enter_time_namespace(o);
                out = "entered";
            } catch (const Error &e) {
                out = std::string("error: ") + e.what();
            }
            write_str(result[1], out);
            _exit(0);
        }
        ::close(ready[1]);
        ::close(go[0]);
        ::close(result[1]);
        char c;
        if (::read(ready[0], &c, 1) != 1)
            return "child failed";
        ln::write_id_mappings(pid, {{0, 100000, 65536}}, {{0, 100000, 65536}});
        (void)!::write(go[1], "g", 1);
        ::close(go[1]);
        std::string out = read_all(result[0]);
        ::waitpid(pid, nullptr, 0);
        return out;
    });
}
} // namespace

TEST_CASE("enter_time_namespace before setresuid in a mapped user namespace", "[userns]") {
    if (::geteuid() != 0) {
        WARN("not root: skipping (maps another uid)");
        return;
    }
    REQUIRE(time_namespace_in_mapped_userns(false) == "entered");
    // the documented misuse fails with a clear error
    REQUIRE(time_namespace_in_mapped_userns(true) ==
            "error: write /proc/self/timens_offsets \"monotonic 500 0\" (not dumpable: enter the time namespace "
            "before changing uid/gid): Permission denied");
}

TEST_CASE("write_id_mappings: an unusable newuidmap is a clear error", "[userns]") {
    if (::geteuid() != 0) {
        WARN("not root: cannot hide newuidmap in a private mount namespace");
        return;
    }
    std::string out = in_child([]() -> std::string {
        // Only in this child's private mount namespace: newuidmap is /dev/null.
        if (::unshare(CLONE_NEWNS) < 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0 ||
            ::mount("/dev/null", "/usr/bin/newuidmap", nullptr, MS_BIND, nullptr) < 0)
            return std::string("mount failed: ") + std::strerror(errno);
        if (::setresgid(65534, 65534, 65534) < 0 || ::setresuid(65534, 65534, 65534) < 0)
            return "setresuid failed";
        int ready[2];
        if (::pipe2(ready, O_CLOEXEC) < 0)
            return "pipe failed";
        pid_t pid = ::fork();
        if (pid == 0) {
            char c = ::unshare(CLONE_NEWUSER) == 0 ? 'r' : 'x';
            (void)!::write(ready[1], &c, 1);
            ::pause();
            _exit(0);
        }
        ::close(ready[1]);
        char c = 0;
        std::string result = "child failed";
        if (pid > 0 && ::read(ready[0], &c, 1) == 1 && c == 'r') {
            try {
                ln::write_id_mappings(pid, {{0, 65534, 1}, {1, 100000, 10}}, {{0, 65534, 1}});
                result = "written";
            } catch (const Error &e) {
                result = e.what();
            }
        }
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        return result;
    });
    REQUIRE(contains(out, "write uid mappings of pid "));
    REQUIRE(contains(out, " with /usr/bin/newuidmap: /usr/bin/newuidmap (package uidmap) is needed to map more than "
                          "the caller's own id: Permission denied"));
}
