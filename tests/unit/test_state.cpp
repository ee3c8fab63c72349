// SPDX-License-Identifier: GPL-2.0-or-later
// The state store: ids, state.json round trips, the OCI state, liveness with
// pid-reuse detection, and the on-disk store (atomic saves, locking).
#include <catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <optional>
#include <sstream>
#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>

#include "crunpp/error.hpp"
#include "crunpp/json.hpp"
#include "crunpp/log.hpp"
#include "crunpp/state.hpp"

using namespace crunpp;
using namespace crunpp::state;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/crunpp-state-test.XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// A forked child, killed and reaped on scope exit whatever happens.
struct Child {
    pid_t pid = -1;
    ~Child() {
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
    }
    int wait_exit() {
        int st = 0;
        REQUIRE(waitpid(pid, &st, 0) == pid);
        pid = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
};

struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int fds[2];
        REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
        r = fds[0];
        w = fds[1];
    }
    ~Pipe() {
        if (r >= 0)
            close(r);
        if (w >= 0)
            close(w);
    }
    // Closes our write end and reads until every writer is gone.
    std::string read_rest() {
        if (w >= 0)
            close(w);
        w = -1;
        std::string got;
        char buf[512];
        for (ssize_t n; (n = read(r, buf, sizeof buf)) > 0;)
            got.append(buf, static_cast<size_t>(n));
        return got;
    }
    // Whether a byte arrives within ms; stores it in *out.
    bool read_byte(int ms, char *out) const {
        struct pollfd p = {r, POLLIN, 0};
        if (poll(&p, 1, ms) != 1)
            return false;
        return read(r, out, 1) == 1;
    }
};

std::string error_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const Error &e) {
        return e.what();
    }
    return "(no error)";
}

ContainerState full_state() {
    ContainerState s;
    s.ociVersion = "1.3.0";
    s.id = "round-trip_1.x";
    s.status = Status::Paused;
    s.pid = 2147483647;
    s.pid_start_time = 18446744073709551615ull;
    s.bundle = "/b/with \"quotes\" and \\ and \xc3\xa9";
    s.rootfs = "/b/rootfs";
    s.created = "2026-11-29T06:47:19.000000001Z";
    s.owner = 4294967294u;
    s.rootless = true;
    s.systemd_cgroup = true;
    s.cgroup_manager = "systemd";
    s.cgroups_path = "system.slice:crunpp:x";
    s.cgroup_paths = {{"unified", "/sys/fs/cgroup/unified/x"}, {"memory", "/sys/fs/cgroup/memory/x"}};
    s.annotations = {{"org.example.a", "1"}, {"empty", ""}};
    s.extra = {{"future", "value"}};
    return s;
}

bool same(const ContainerState &a, const ContainerState &b) {
    return a.ociVersion == b.ociVersion && a.id == b.id && a.status == b.status && a.pid == b.pid &&
           a.pid_start_time == b.pid_start_time && a.bundle == b.bundle && a.rootfs == b.rootfs &&
           a.created == b.created && a.owner == b.owner && a.rootless == b.rootless &&
           a.systemd_cgroup == b.systemd_cgroup && a.cgroup_manager == b.cgroup_manager &&
           a.cgroups_path == b.cgroups_path && a.cgroup_paths == b.cgroup_paths && a.annotations == b.annotations &&
           a.extra == b.extra;
}

// A child that waits (for a kill) and never touches the parent's state.
pid_t spawn_sleeper() {
    pid_t p = fork();
    REQUIRE(p >= 0);
    if (p == 0) {
        alarm(30); // bounded even if the test forgets it
        for (;;)
            pause();
    }
    return p;
}

// Runs `body` in a forked child (so it may change ids, namespaces and the
// environment) and returns the text it produced; a body that cannot set
// itself up returns nullopt and the child exits with status 2.
std::string output_of_child(const std::function<std::optional<std::string>()> &body) {
    Pipe p;
    Child c;
    c.pid = fork();
    REQUIRE(c.pid >= 0);
    if (c.pid == 0) {
        std::optional<std::string> result = body();
        if (!result)
            _exit(2);
        (void)!write(p.w, result->data(), result->size());
        _exit(0);
    }
    std::string got = p.read_rest();
    CHECK(c.wait_exit() == 0);
    return got;
}

} // namespace

TEST_CASE("container ids", "[state]") {
    for (const char *good : {"a", "Z", "0", "abc", "a.b", "a..b", "a-b_c.d", "A1-_.", "0.0.0"})
        CHECK(valid_id(good));
    CHECK(valid_id(std::string(kMaxIdLength, 'x')));

    std::string nul("a\0b", 3);
    for (const std::string &bad : std::vector<std::string>{"", ".", "..", ".a", "-a", "_a", "a/b", "/a", "a/", "../x", "a b", "a\n", "\xc3\xa9",
                            "a:b", "a*", std::string(kMaxIdLength + 1, 'x'), nul})
        CHECK_FALSE(valid_id(bad));

    CHECK_NOTHROW(check_id("good"));
    CHECK(error_of([] { check_id("../x"); }) ==
          "invalid container id \"../x\": must match [A-Za-z0-9][A-Za-z0-9_.-]*");
    CHECK(error_of([] { check_id(std::string(1025, 'x')); }).find("longer than 1024 bytes") != std::string::npos);
    // Hostile bytes are escaped and long ids cut in the message.
    std::string msg = error_of([] { check_id("a\x1b[2Jb" + std::string(500, 'y')); });
    CHECK(msg.find("\\x1b[2Jb") != std::string::npos);
    CHECK(msg.find("...") != std::string::npos);
    CHECK(msg.size() < 200);
}

TEST_CASE("status names", "[state]") {
    for (Status s : {Status::Creating, Status::Created, Status::Running, Status::Stopped, Status::Paused})
        CHECK(status_from_name(status_name(s)) == s);
    CHECK(std::string(status_name(Status::Running)) == "running");
    CHECK_FALSE(status_from_name("Running").has_value());
    CHECK_FALSE(status_from_name("").has_value());
}

TEST_CASE("default root", "[state]") {
    if (geteuid() == 0)
        CHECK(default_root() == "/run/crunpp");
    // Rootless: in a child, as an unprivileged uid (never in this process).
    if (geteuid() != 0)
        return;
    std::string got = output_of_child([]() -> std::optional<std::string> {
        std::string result;
        if (setresuid(65534, 65534, 65534) != 0)
            return std::nullopt;
        setenv("XDG_RUNTIME_DIR", "/run/user/65534", 1);
        result += default_root() + "|";
        unsetenv("XDG_RUNTIME_DIR");
        try {
            default_root();
        } catch (const Error &e) {
            result += e.what();
        }
        result += "|";
        setenv("XDG_RUNTIME_DIR", "relative", 1);
        try {
            default_root();
        } catch (const Error &e) {
            result += e.what();
        }
        return result;
    });
    CHECK(got == "/run/user/65534/crunpp|"
                 "XDG_RUNTIME_DIR is not set: set it (usually to /run/user/65534) or pass --root DIR|"
                 "XDG_RUNTIME_DIR \"relative\" is not an absolute path: fix it or pass --root DIR");
}

TEST_CASE("root in another user namespace: in_user_namespace and runc's XDG rule", "[state]") {
    if (geteuid() != 0 || in_user_namespace())
        return;
    CHECK_FALSE(in_user_namespace());
    std::string got = output_of_child([]() -> std::optional<std::string> {
        std::string result;
        if (unshare(CLONE_NEWUSER) != 0)
            return std::nullopt;
        result += in_user_namespace() ? "unmapped-in|" : "unmapped-out|";
        int fd = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "0 0 1\n", 6) != 6)
            return std::nullopt;
        close(fd);
        result += in_user_namespace() ? "in|" : "out|";
        setenv("XDG_RUNTIME_DIR", "/run/user/1001", 1);
        unsetenv("USER");
        result += default_root() + "|";
        setenv("USER", "someone", 1);
        result += default_root() + "|";
        setenv("USER", "root", 1);
        result += default_root() + "|";
        unsetenv("XDG_RUNTIME_DIR");
        unsetenv("USER");
        result += default_root();
        return result;
    });
    CHECK(got == "unmapped-in|in|/run/user/1001/crunpp|/run/user/1001/crunpp|/run/crunpp|/run/crunpp");
}

TEST_CASE("rfc3339 time and owner names", "[state]") {
    CHECK(std::regex_match(crunpp::log::rfc3339_now(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z)")));
    // The same UTC date and time as gmtime (retried when the second turns).
    // The clock is read as rfc3339_now reads it: time() is the coarse clock,
    // up to a tick behind, which made this fail near a second's end.
    auto realtime_seconds = [] {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return ts.tv_sec;
    };
    for (int i = 0; i < 3; i++) {
        time_t before = realtime_seconds();
        std::string now = crunpp::log::rfc3339_now();
        if (realtime_seconds() != before)
            continue;
        struct tm tm;
        gmtime_r(&before, &tm);
        char expect[32];
        strftime(expect, sizeof expect, "%Y-%m-%dT%H:%M:%S", &tm);
        CHECK(now.substr(0, 19) == expect);
        break;
    }
    CHECK(owner_name(0) == "root");
    CHECK(owner_name(3999999999u) == "#3999999999");
}

TEST_CASE("state.json round trip", "[state]") {
    ContainerState s = full_state();
    ContainerState back = from_json(to_json(s), "test");
    CHECK(same(s, back));

    ContainerState minimal;
    minimal.id = "m";
    CHECK(same(minimal, from_json(to_json(minimal), "test")));
    // Unknown fields are ignored; absent optional ones take their defaults.
    ContainerState r = from_json(R"({"id":"x","status":"created","future":{"a":[1,2]}})", "test");
    CHECK(r.id == "x");
    CHECK(r.status == Status::Created);
    CHECK(r.pid == 0);
}

TEST_CASE("state.json errors name the field", "[state]") {
    auto err = [](const char *text) { return error_of([&] { from_json(text, "state.json"); }); };
    CHECK(err("[]") == "state.json: expected an object, got array");
    CHECK(err("{\"status\":\"running\"}") == "state.json: .id: missing");
    CHECK(err("{\"id\":\"../x\",\"status\":\"running\"}") == "state.json: .id: invalid container id");
    CHECK(err("{\"id\":\"x\"}") == "state.json: .status: missing");
    CHECK(err("{\"id\":\"x\",\"status\":\"sleeping\"}") == "state.json: .status: unknown status \"sleeping\"");
    CHECK(err("{\"id\":\"x\",\"status\":\"running\",\"pid\":\"1\"}") ==
          "state.json: .pid: expected number, got string");
    CHECK(err("{\"id\":\"x\",\"status\":\"running\",\"pid\":-1}") ==
          "state.json: .pid: expected an integer from 0 to 2147483647, got -1");
    CHECK(err("{\"id\":\"x\",\"status\":\"running\",\"pid\":2147483648}").find(".pid: expected an integer") !=
          std::string::npos);
    CHECK(err("{\"id\":\"x\",\"status\":\"running\",\"pid\":1.5}").find(".pid: expected an integer") !=
          std::string::npos);
    CHECK(err("{\"id\":\"x\",\"status\":\"running\",\"owner\":4294967296}").find(".owner: expected") !=
          std::string::npos);
    CHECK(err("{\"id\":\"x\",\"status\":\"running\",\"rootless\":1}") ==
          "state.json: .rootless: expected boolean, got number");
    CHECK(err("{\"id\":\"x\",\"status\":\"running\",\"annotations\":{\"a\":1}}") ==
          "state.json: .annotations.a: expected string, got number");
    CHECK(err("{\"id\":\"x\",").find("state.json: invalid JSON") == 0);
    CHECK(err("").find("state.json:") == 0);
}

TEST_CASE("OCI state document", "[state]") {
    ContainerState s = full_state();
    s.status = Status::Running;
    s.pid = 42;
    json::Value v = json::parse(to_oci_json(s, true, PidWhenNone::Zero), "oci");
    REQUIRE(v.type == json::Type::Object);
    std::vector<std::string> keys;
    for (const auto &[k, e] : v.object)
        keys.push_back(k);
    CHECK(keys == std::vector<std::string>{"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created",
                                           "owner", "annotations"});
    CHECK(v.find("pid")->text == "42");
    CHECK(v.find("status")->text == "running");
    CHECK(v.find("bundle")->text == s.bundle);
    CHECK(v.find("owner")->text == "#4294967294");
    CHECK(v.find("annotations")->find("org.example.a")->text == "1");
    CHECK(json::parse(to_oci_json(s, false, PidWhenNone::Omitted), "oci").find("pid")->text == "42");

    // A stopped container keeps its last pid in state.json; neither form
    // prints it. runc's `state` and `list` print 0, the spec's State omits it.
    s.status = Status::Stopped;
    s.annotations.clear();
    v = json::parse(to_oci_json(s, false, PidWhenNone::Zero), "oci");
    REQUIRE(v.find("pid") != nullptr);
    CHECK(v.find("pid")->text == "0");
    CHECK(v.find("annotations") == nullptr);
    CHECK(v.find("status")->text == "stopped");
    CHECK(json::parse(to_oci_json(s, false, PidWhenNone::Omitted), "oci").find("pid") == nullptr);
    CHECK(to_oci_json(s, false, PidWhenNone::Zero).find('\n') == std::string::npos);
    CHECK(to_oci_json(s, true, PidWhenNone::Zero).back() == '}');

    s.status = Status::Creating;
    s.pid = 0;
    CHECK(json::parse(to_oci_json(s, true, PidWhenNone::Zero), "oci").find("pid")->text == "0");
    CHECK(json::parse(to_oci_json(s, true, PidWhenNone::Omitted), "oci").find("pid") == nullptr);
}

TEST_CASE("process start time and pid reuse", "[state]") {
    CHECK(process_start_time(0) == 0);
    CHECK(process_start_time(-5) == 0);
    CHECK_FALSE(process_alive(0, 1));
    CHECK(process_start_time(getpid()) > 0);

    Child c;
    c.pid = spawn_sleeper();
    uint64_t start = process_start_time(c.pid);
    REQUIRE(start > 0);
    CHECK(process_alive(c.pid, start));
    CHECK_FALSE(process_alive(c.pid, start + 1)); // same pid, another process
    CHECK_FALSE(process_alive(c.pid, 0));         // without a start time nothing matches

    ContainerState s;
    s.id = "p";
    s.pid = c.pid;
    s.pid_start_time = start;
    for (Status st : {Status::Created, Status::Running, Status::Paused}) {
        s.status = st;
        CHECK(effective_status(s) == st);
    }
    s.pid_start_time = start + 1;
    CHECK(effective_status(s) == Status::Stopped);
    s.pid_start_time = start;

    // A zombie has exited: stopped, although /proc still lists it.
    REQUIRE(kill(c.pid, SIGKILL) == 0);
    for (int i = 0; i < 500 && process_alive(c.pid, start); i++)
        usleep(10000);
    CHECK_FALSE(process_alive(c.pid, start));
    CHECK(process_start_time(c.pid) == start); // the zombie's entry is still there
    s.status = Status::Running;
    CHECK(effective_status(s) == Status::Stopped);

    pid_t dead = c.pid;
    c.wait_exit();
    CHECK(process_start_time(dead) == 0);
    CHECK(effective_status(s) == Status::Stopped);

    s.status = Status::Creating;
    CHECK(effective_status(s) == Status::Creating);
    s.status = Status::Stopped;
    CHECK(effective_status(s) == Status::Stopped);
}

TEST_CASE("start time parsing survives a hostile comm", "[state]") {
    Pipe ready;
    Child c;
    c.pid = fork();
    REQUIRE(c.pid >= 0);
    if (c.pid == 0) {
        alarm(30);
        // Spaces and parentheses, as a container process may name itself.
        prctl(PR_SET_NAME, "a) b (c) 9 9");
        (void)!write(ready.w, "x", 1);
        for (;;)
            pause();
    }
    char b;
    REQUIRE(ready.read_byte(5000, &b));
    std::string stat;
    {
        int fd = open(("/proc/" + std::to_string(c.pid) + "/stat").c_str(), O_RDONLY | O_CLOEXEC);
        REQUIRE(fd >= 0);
        char buf[1024];
        ssize_t n = read(fd, buf, sizeof buf);
        close(fd);
        REQUIRE(n > 0);
        stat.assign(buf, static_cast<size_t>(n));
    }
    REQUIRE(stat.find("(a) b (c) 9 9)") != std::string::npos);
    // Field 22 counted after the last ')': field 3 is the first token there.
    std::string rest = stat.substr(stat.rfind(')') + 2);
    std::istringstream in(rest);
    std::string tok;
    for (int field = 3; field <= 22; field++)
        in >> tok;
    CHECK(process_start_time(c.pid) == std::stoull(tok));
    CHECK(process_alive(c.pid, std::stoull(tok)));
}

TEST_CASE("store: create, save, open, remove", "[state]") {
    TempDir t;
    std::string root = t.path + "/run/crunpp"; // two missing levels
    Store store(root);
    CHECK(store.list_ids().empty()); // a missing root lists nothing
    CHECK_FALSE(store.read("c1").has_value());
    CHECK(error_of([&] { store.open("c1"); }) == "container \"c1\" does not exist");

    {
        Container c = store.create("c1");
        CHECK(c.id() == "c1");
        CHECK(c.dir() == root + "/c1");
        CHECK(c.dir_fd() >= 0);
        CHECK(c.state().status == Status::Creating);
        CHECK(c.state().id == "c1");
        CHECK(c.state().owner == geteuid());
        CHECK_FALSE(c.state().created.empty());
        CHECK_FALSE(c.state().ociVersion.empty());
        struct stat st;
        REQUIRE(stat(root.c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0700);
        // Unsaved, it is not there for anyone else: the id shows up with
        // its state.json, at the first save.
        CHECK_FALSE(fs::exists(root + "/c1"));
        CHECK_FALSE(store.read("c1").has_value());
        CHECK(store.list_ids().empty());
        CHECK(error_of([&] { store.open("c1"); }) == "container \"c1\" does not exist");
        REQUIRE(fstat(c.dir_fd(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0711);

        c.state().status = Status::Created;
        c.state().bundle = "/bundle";
        c.state().annotations["k"] = "v";
        mode_t umask_before = umask(077); // 0711 whatever the umask
        c.save();
        umask(umask_before);
        REQUIRE(stat((root + "/c1").c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0711);
        CHECK(store.read("c1")->status == Status::Created);
        REQUIRE(stat((root + "/c1/state.json").c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0600);
        CHECK_FALSE(fs::exists(root + "/c1/state.json.tmp"));
        CHECK_FALSE(fs::exists(root + "/c1/lock")); // the directory itself is the lock
    }
    CHECK(store.exists("c1"));
    CHECK_FALSE(store.exists("c2"));
    CHECK_FALSE(store.exists("../c1"));
    CHECK(store.list_ids() == std::vector<std::string>{"c1"});

    {
        Container c = store.open("c1");
        CHECK(c.state().status == Status::Created);
        CHECK(c.state().bundle == "/bundle");
        CHECK(c.state().annotations.at("k") == "v");
        // Everything in the directory goes, without following symlinks.
        std::string outside = t.path + "/outside";
        REQUIRE(mkdir(outside.c_str(), 0700) == 0);
        REQUIRE(mkdirat(c.dir_fd(), "sub", 0700) == 0);
        REQUIRE(mkdirat(c.dir_fd(), "sub/deeper", 0700) == 0);
        REQUIRE(mkfifoat(c.dir_fd(), "exec.fifo", 0600) == 0);
        REQUIRE(symlinkat(outside.c_str(), c.dir_fd(), "sub/link") == 0);
        int fd = openat(c.dir_fd(), "sub/deeper/file", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        REQUIRE(fd >= 0);
        close(fd);
        c.remove();
        CHECK(c.dir_fd() < 0);
        CHECK(fs::exists(outside));
        CHECK(error_of([&] { c.save(); }).find("removed") != std::string::npos);
        CHECK(error_of([&] { c.remove(); }).find("already removed") != std::string::npos);
    }
    CHECK_FALSE(store.exists("c1"));
    CHECK(store.list_ids().empty());
    CHECK(fs::is_empty(root)); // no hidden leftovers either
    CHECK(error_of([&] { store.open("c1"); }) == "container \"c1\" does not exist");
    CHECK_FALSE(store.read("c1").has_value());
}

TEST_CASE("store: a save replaces state.json whole, with or without one before", "[state]") {
    TempDir t;
    Store store(t.path + "/root");
    auto saved_status = [&](const std::string &id) { return store.read(id)->status; };
    // A directory without state.json: made by an older crunpp that died
    // before its first save.
    REQUIRE(mkdir((t.path + "/root").c_str(), 0700) == 0);
    REQUIRE(mkdir((t.path + "/root/c1").c_str(), 0711) == 0);
    CHECK(saved_status("c1") == Status::Creating);
    {
        Container c = store.open("c1");
        c.state().status = Status::Created;
        c.save(); // nothing to exchange with: renamed into place
        CHECK(saved_status("c1") == Status::Created);
    }
    Container c = store.open("c1");
    int reader = openat(c.dir_fd(), "state.json", O_RDONLY | O_CLOEXEC);
    REQUIRE(reader >= 0);
    for (Status s : {Status::Running, Status::Stopped}) {
        c.state().status = s;
        c.save();
        CHECK(saved_status("c1") == s);
        CHECK_FALSE(fs::exists(t.path + "/root/c1/state.json.tmp"));
    }
    // The reader's file is the old one, whole and unlinked.
    char buf[4096];
    ssize_t n = pread(reader, buf, sizeof buf, 0);
    REQUIRE(n > 0);
    CHECK(std::string(buf, size_t(n)).find("\"created\"") != std::string::npos);
    struct stat st;
    REQUIRE(fstat(reader, &st) == 0);
    CHECK(st.st_nlink == 0);
    close(reader);
    // A temporary file left by an earlier save (its unlink failed) is
    // simply written over.
    int stale = openat(c.dir_fd(), "state.json.tmp", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    REQUIRE(stale >= 0);
    REQUIRE(write(stale, "garbage that is longer than nothing", 35) == 35);
    close(stale);
    c.state().status = Status::Paused;
    c.save();
    CHECK(saved_status("c1") == Status::Paused);
    CHECK_FALSE(fs::exists(t.path + "/root/c1/state.json.tmp"));
}

TEST_CASE("store: duplicates, bad ids, odd entries", "[state]") {
    TempDir t;
    Store store(t.path);
    {
        Container a = store.create("dup");
        // Both unpublished: the first save takes the id, the other's fails
        // and its directory goes with its handle.
        Container b = store.create("dup");
        a.save();
        CHECK(error_of([&] { b.save(); }) == "container \"dup\" already exists");
        CHECK(error_of([&] { store.create("dup"); }) == "container \"dup\" already exists");
    }
    CHECK(error_of([&] { store.create("dup"); }) == "container \"dup\" already exists");
    CHECK(store.list_ids() == std::vector<std::string>{"dup"});
    store.open("dup").remove();
    CHECK_NOTHROW(store.create("dup").remove()); // the id is free again
    {
        Container never_saved = store.create("dup");
    }
    CHECK(fs::is_empty(t.path)); // nothing hidden stays either

    for (const char *bad : {"..", "a/b", "-x", ""}) {
        CHECK(error_of([&] { store.create(bad); }).find("invalid container id") == 0);
        CHECK(error_of([&] { store.open(bad); }).find("invalid container id") == 0);
        CHECK(error_of([&] { store.read(bad); }).find("invalid container id") == 0);
    }
    // A valid but overlong directory name fails cleanly and leaves nothing.
    CHECK(error_of([&] { store.create(std::string(300, 'l')); }).find("File name too long") != std::string::npos);

    // list_ids: directories with valid names only, sorted.
    REQUIRE(mkdir((t.path + "/b").c_str(), 0700) == 0);
    REQUIRE(mkdir((t.path + "/a").c_str(), 0700) == 0);
    REQUIRE(mkdir((t.path + "/.hidden").c_str(), 0700) == 0);
    REQUIRE(symlink(t.path.c_str(), (t.path + "/link").c_str()) == 0);
    int fd = open((t.path + "/file").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    close(fd);
    CHECK(store.list_ids() == std::vector<std::string>{"a", "b"});
    // A symlink in place of a container dir is refused, not followed.
    CHECK(error_of([&] { store.open("link"); }).find("is not a directory") != std::string::npos);
    CHECK(error_of([&] { store.read("link"); }).find("is not a directory") != std::string::npos);
    // A dir without state.json is a container being created (a crash of
    // an older crunpp between publishing and saving): delete removes it.
    CHECK(store.open("a").state().status == Status::Creating);
    store.open("a").remove();
    CHECK_FALSE(fs::exists(t.path + "/a"));
    // A damaged state.json is an error naming the file.
    Container c = store.create("broken");
    c.save();
    fd = openat(c.dir_fd(), "state.json", O_WRONLY | O_TRUNC | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, "{\"id\":", 6) == 6);
    close(fd);
    CHECK(error_of([&] { store.read("broken"); }).find(t.path + "/broken/state.json: invalid JSON") == 0);
    // ... and one copied from another container is caught.
    c.state().id = "other";
    c.save();
    CHECK(error_of([&] { store.read("broken"); }).find(".id: \"other\" does not match") != std::string::npos);
}

TEST_CASE("store: directories larger than one read of entries", "[state]") {
    // 4 KiB of getdents64 records hold about 50 entries of these names: the
    // listing and the removal must go on past the first read.
    TempDir t;
    Store store(t.path);
    std::vector<std::string> ids;
    for (int i = 0; i < 150; i++) {
        std::string id = "container-with-a-rather-long-name-" + std::to_string(1000 + i);
        REQUIRE(mkdir((t.path + "/" + id).c_str(), 0711) == 0);
        ids.push_back(id);
    }
    CHECK(store.list_ids() == ids); // sorted: same-length names, increasing numbers

    Container c = store.open(ids[0]);
    for (int i = 0; i < 200; i++) {
        std::string name = "file-with-a-rather-long-name-" + std::to_string(i);
        int fd = openat(c.dir_fd(), name.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        REQUIRE(fd >= 0);
        close(fd);
    }
    REQUIRE(mkdirat(c.dir_fd(), "sub", 0700) == 0);
    for (int i = 0; i < 120; i++) {
        std::string name = "sub/nested-entry-with-a-long-name-" + std::to_string(i);
        REQUIRE(mkdirat(c.dir_fd(), name.c_str(), 0700) == 0);
    }
    c.remove();
    CHECK_FALSE(fs::exists(t.path + "/" + ids[0]));
    CHECK(store.list_ids().size() == ids.size() - 1);
}

TEST_CASE("store: relative root and a root too deep to create", "[state]") {
    TempDir t;
    std::string cwd = fs::current_path();
    REQUIRE(chdir(t.path.c_str()) == 0);
    Store rel("r/");
    CHECK(rel.root() == t.path + "/r");
    REQUIRE(chdir(cwd.c_str()) == 0);
    Container c = rel.create("x");
    CHECK(c.dir() == t.path + "/r/x");
    c.remove();

    Store deep(t.path + "/1/2/3");
    CHECK(error_of([&] { deep.create("x"); }).find("create state root " + t.path + "/1/2/3") == 0);
    CHECK_FALSE(fs::exists(t.path + "/1"));
}

TEST_CASE("store: a reader never sees a partial state.json", "[state]") {
    TempDir t;
    Store store(t.path);
    Container c = store.create("atomic");
    c.state().status = Status::Running;
    c.save();

    std::atomic<bool> stop{false};
    std::atomic<int> reads{0}, failures{0};
    std::thread reader([&] {
        Store mine(t.path);
        while (!stop) {
            try {
                auto s = mine.read("atomic");
                if (!s || s->status != Status::Running)
                    failures++;
            } catch (const Error &) {
                failures++;
            }
            reads++;
        }
    });
    // Alternate a small and a large document, so a torn write would show.
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(800);
    int saves = 0;
    for (; saves < 20000 && std::chrono::steady_clock::now() < until; saves++) {
        c.state().annotations.clear();
        if (saves % 2)
            for (int i = 0; i < 200; i++)
                c.state().annotations["key" + std::to_string(i)] = std::string(64, 'v');
        c.save();
    }
    stop = true;
    reader.join();
    CHECK(saves > 10);
    CHECK(reads > 10);
    CHECK(failures == 0);
    c.remove();
}

namespace {

// Forks a child that opens `id` (blocking on its lock) and reports over the
// pipe: 'o' opened (then the status letter), 'e' + the error text.
void fork_opener(Child &c, Pipe &p, const std::string &root, const std::string &id) {
    c.pid = fork();
    REQUIRE(c.pid >= 0);
    if (c.pid != 0)
        return;
    alarm(20);
    // A forked child shares the open lock files of the parent's handles, and
    // with them the locks: it must drop them, as the lifecycle's init does.
    close_range(3, static_cast<unsigned>(p.w) - 1, 0);
    close_range(static_cast<unsigned>(p.w) + 1, ~0u, 0);
    std::string msg;
    try {
        Container mine = Store(root).open(id);
        msg = std::string("o") + status_name(mine.state().status);
    } catch (const Error &e) {
        msg = std::string("e") + e.what();
    }
    (void)!write(p.w, msg.data(), msg.size());
    _exit(0);
}

} // namespace

TEST_CASE("store: a second open waits for the lock", "[state]") {
    TempDir t;
    Store store(t.path);
    std::optional<Container> held = store.create("locked");
    held->state().status = Status::Created;
    held->save();
    held.reset();
    held = store.open("locked");

    Pipe p;
    Child c;
    fork_opener(c, p, t.path, "locked");
    char b = 0;
    CHECK_FALSE(p.read_byte(300, &b)); // blocked while we hold it
    held.reset();
    REQUIRE(p.read_byte(5000, &b));
    CHECK(b == 'o');
    CHECK(p.read_rest() == "created");
    CHECK(c.wait_exit() == 0);
}

TEST_CASE("store: create holds the lock until it is done", "[state]") {
    TempDir t;
    Store store(t.path);
    std::optional<Container> creating = store.create("new");
    creating->save(); // published, still being created

    Pipe p;
    Child c;
    fork_opener(c, p, t.path, "new");
    char b = 0;
    CHECK_FALSE(p.read_byte(300, &b));
    creating->state().status = Status::Created;
    creating->save();
    creating.reset();
    REQUIRE(p.read_byte(5000, &b));
    CHECK(b == 'o');
    CHECK(p.read_rest() == "created");
    CHECK(c.wait_exit() == 0);
}

TEST_CASE("store: an open waiting on a container being removed fails cleanly", "[state]") {
    TempDir t;
    Store store(t.path);
    std::optional<Container> held = store.create("doomed");
    held->save();

    Pipe p;
    Child c;
    fork_opener(c, p, t.path, "doomed");
    char b = 0;
    CHECK_FALSE(p.read_byte(300, &b));
    // Meanwhile the id is removed and created anew: the waiter must not take
    // the new container for the one it waited on.
    held->remove();
    Container reborn = store.create("doomed");
    reborn.save();
    held.reset();
    REQUIRE(p.read_byte(5000, &b));
    CHECK(b == 'e');
    CHECK(p.read_rest() == "container \"doomed\" does not exist");
    CHECK(c.wait_exit() == 0);
    reborn.remove();
}

TEST_CASE("store: a forked child can drop the inherited lock", "[state]") {
    TempDir t;
    Store store(t.path);
    Container parent = store.create("shared");
    parent.save();

    Pipe p;
    Child waiter;
    fork_opener(waiter, p, t.path, "shared");
    char b = 0;
    CHECK_FALSE(p.read_byte(200, &b));

    // A child that inherits the handle, closes its lock fd and lives on:
    // the lock must still be the parent's (the waiter stays blocked).
    Pipe closed;
    Child inheritor;
    inheritor.pid = fork();
    REQUIRE(inheritor.pid >= 0);
    if (inheritor.pid == 0) {
        alarm(20);
        parent.close_inherited_lock();
        (void)!write(closed.w, "c", 1);
        for (;;)
            pause();
    }
    REQUIRE(closed.read_byte(5000, &b));
    CHECK_FALSE(p.read_byte(200, &b));
    // Once the parent lets go, the waiter gets it although the child lives.
    parent.close_inherited_lock();
    REQUIRE(p.read_byte(5000, &b));
    CHECK(b == 'o');
    CHECK(waiter.wait_exit() == 0);
}

TEST_CASE("store: concurrent creates of one id: exactly one wins", "[state]") {
    TempDir t;
    constexpr int kRacers = 4;
    Child racers[kRacers];
    Pipe go;
    for (auto &r : racers) {
        r.pid = fork();
        REQUIRE(r.pid >= 0);
        if (r.pid == 0) {
            alarm(20);
            char b;
            close(go.w);
            if (read(go.r, &b, 1) != 0) // released together when the pipe closes
                _exit(3);
            try {
                Store(t.path).create("race").save();
                _exit(0);
            } catch (const Error &e) {
                _exit(std::string(e.what()) == "container \"race\" already exists" ? 1 : 2);
            }
        }
    }
    close(go.w);
    go.w = -1;
    int won = 0, lost = 0;
    for (auto &r : racers) {
        int rc = r.wait_exit();
        won += rc == 0;
        lost += rc == 1;
    }
    CHECK(won == 1);
    CHECK(lost == kRacers - 1);
    CHECK(Store(t.path).list_ids() == std::vector<std::string>{"race"});
    CHECK(Store(t.path).read("race")->status == Status::Creating);
}

TEST_CASE("store: read-modify-write under the lock loses no update", "[state]") {
    TempDir t;
    Store(t.path).create("counter").save();
    constexpr int kWriters = 4, kRounds = 25;
    Child writers[kWriters];
    for (auto &w : writers) {
        w.pid = fork();
        REQUIRE(w.pid >= 0);
        if (w.pid == 0) {
            alarm(20);
            try {
                Store store(t.path);
                for (int i = 0; i < kRounds; i++) {
                    Container c = store.open("counter");
                    auto &n = c.state().extra["n"];
                    n = std::to_string((n.empty() ? 0 : std::stoi(n)) + 1);
                    c.save();
                }
                _exit(0);
            } catch (const Error &) {
                _exit(1);
            }
        }
    }
    for (auto &w : writers)
        CHECK(w.wait_exit() == 0);
    CHECK(Store(t.path).read("counter")->extra.at("n") == std::to_string(kWriters * kRounds));
}

namespace {

// A pid that was ours a moment ago and is gone now.
pid_t dead_pid() {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0)
        _exit(0);
    REQUIRE(waitpid(pid, nullptr, 0) == pid);
    return pid;
}

std::vector<std::string> hidden_entries(const std::string &root) {
    std::vector<std::string> names;
    for (const auto &e : fs::directory_iterator(root))
        if (e.path().filename().string()[0] == '.')
            names.push_back(e.path().filename().string());
    return names;
}

} // namespace

TEST_CASE("store: a directory of an older crunpp: its lock file is locked too", "[state]") {
    TempDir t;
    // As older binaries made it: a lock file, which they flock.
    REQUIRE(mkdir((t.path + "/old").c_str(), 0711) == 0);
    int lock = open((t.path + "/old/lock").c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(lock >= 0);
    REQUIRE(flock(lock, LOCK_EX) == 0); // an older crunpp holds it

    Pipe p;
    Child c;
    fork_opener(c, p, t.path, "old");
    char b = 0;
    CHECK_FALSE(p.read_byte(300, &b)); // waits for the older binary
    close(lock);
    REQUIRE(p.read_byte(5000, &b));
    CHECK(b == 'o');
    CHECK(p.read_rest() == "creating");
    CHECK(c.wait_exit() == 0);

    // ... and an older binary waits for us, and its file goes on remove.
    Container held = Store(t.path).open("old");
    lock = open((t.path + "/old/lock").c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(lock >= 0);
    CHECK(flock(lock, LOCK_EX | LOCK_NB) < 0);
    close(lock);
    held.remove();
    CHECK(fs::is_empty(t.path));
}

TEST_CASE("store: a forked child's copy of an unsaved container leaves it alone", "[state]") {
    TempDir t;
    Store store(t.path);
    Container c = store.create("forked");
    Child child;
    child.pid = fork();
    REQUIRE(child.pid >= 0);
    if (child.pid == 0) {
        {
            Container copy = std::move(c); // destroyed here, in the child
        }
        _exit(0);
    }
    CHECK(child.wait_exit() == 0);
    c.save(); // its directory is still there to be published
    CHECK(store.read("forked")->status == Status::Creating);
}

TEST_CASE("store: delete collects what a killed create or remove left", "[state]") {
    TempDir t;
    Store store(t.path);
    // A create killed before its first save (no destructor ran): its
    // hidden directory, with a file in it, stays behind.
    Child killed;
    killed.pid = fork();
    REQUIRE(killed.pid >= 0);
    if (killed.pid == 0) {
        try {
            Container c = Store(t.path).create("killed");
            int fd = openat(c.dir_fd(), "config.json", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
            if (fd < 0)
                _exit(1);
            _exit(0); // as SIGKILL would: no cleanup
        } catch (...) {
            _exit(2);
        }
    }
    REQUIRE(killed.wait_exit() == 0);
    killed.pid = -1;
    REQUIRE(hidden_entries(t.path).size() == 1);
    // A remove killed half-way; a dead maker whose directory someone still
    // holds locked (a maker in another pid namespace looks dead).
    std::string tomb = t.path + "/.del-" + std::to_string(dead_pid()) + "-1-1";
    REQUIRE(mkdir(tomb.c_str(), 0711) == 0);
    REQUIRE(mkdir((tomb + "/sub").c_str(), 0700) == 0);
    std::string held_name = ".new-" + std::to_string(dead_pid()) + "-2-2";
    REQUIRE(mkdir((t.path + "/" + held_name).c_str(), 0711) == 0);
    int held = open((t.path + "/" + held_name).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(held >= 0);
    REQUIRE(flock(held, LOCK_EX) == 0);
    // A create in progress, alive.
    Container live = store.create("live");

    store.collect_garbage();
    std::vector<std::string> left = hidden_entries(t.path);
    REQUIRE(left.size() == 2);
    if (left[0] == held_name)
        std::swap(left[0], left[1]);
    CHECK(left[0].rfind(".new-" + std::to_string(getpid()) + "-", 0) == 0); // the live one
    CHECK(left[1] == held_name);
    close(held);
    store.collect_garbage();
    CHECK(hidden_entries(t.path).size() == 1);
    live.save();
    CHECK(store.list_ids() == std::vector<std::string>{"live"});
    live.remove();
    CHECK(fs::is_empty(t.path));
}
