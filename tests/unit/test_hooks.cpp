// SPDX-License-Identifier: GPL-2.0-or-later
// hooks::run, the passthrough of LISTEN_FDS/--preserve-fds,
// and the exe guard, without a container.
#include <catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "crunpp/error.hpp"
#include "crunpp/spec.hpp"
#include "src/libcrunpp/container/exe_guard.hpp"
#include "src/libcrunpp/container/passthrough.hpp"
#include "src/libcrunpp/hooks/hooks.hpp"

using namespace crunpp;

namespace {

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char tmpl[] = "/tmp/crunpp-hooks-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

std::string slurp(const std::filesystem::path &p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

spec::Hook sh_hook(const std::string &script, std::vector<std::string> env = {}) {
    spec::Hook h;
    h.path = "/bin/sh";
    h.args = {"sh", "-c", script};
    h.env = std::move(env);
    return h;
}

std::string error_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const Error &e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("hooks: state on stdin, args and env only from the hook, in order", "[hooks]") {
    TempDir d;
    std::string log = (d.path / "log").string();
    std::vector<spec::Hook> hooks = {
        sh_hook("read s; echo \"1 $s $FOO ${HOME:-nohome}\" >>" + log, {"FOO=bar"}),
        sh_hook("echo \"2 $0\" >>" + log),
    };
    hooks[1].args = {"sh", "-c", "echo \"2 $0 $1\" >>" + log, "zero", "one"};
    hooks::run("prestart", hooks, "{\"ociVersion\":\"1.3.0\"}\n");
    CHECK(slurp(log) == "1 {\"ociVersion\":\"1.3.0\"} bar nohome\n2 zero one\n");
}

TEST_CASE("hooks: the first failure stops the phase and is reported with its output", "[hooks]") {
    TempDir d;
    std::string log = (d.path / "log").string();
    std::vector<spec::Hook> hooks = {sh_hook("echo oops; echo bad >&2; exit 3"), sh_hook("touch " + log)};
    CHECK(error_of([&] { hooks::run("createRuntime", hooks, "{}"); }) ==
          "createRuntime hook[0] \"/bin/sh\": exited with status 3: oops\nbad");
    CHECK(!std::filesystem::exists(log));
    CHECK(error_of([&] { hooks::run("prestart", {sh_hook("kill -9 $$")}, "{}"); }) ==
          "prestart hook[0] \"/bin/sh\": killed by signal 9");
    spec::Hook missing;
    missing.path = "/nonexistent/hook";
    CHECK(error_of([&] { hooks::run("poststart", {missing}, "{}"); }) ==
          "poststart hook[0] \"/nonexistent/hook\": exited with status 127: exec: No such file or directory");
}

TEST_CASE("hooks: a timeout kills the hook", "[hooks]") {
    spec::Hook h;
    h.path = "/bin/sleep";
    h.args = {"sleep", "30"};
    h.timeout = 1;
    auto start = std::chrono::steady_clock::now();
    CHECK(error_of([&] { hooks::run("prestart", {h}, "{}"); }) ==
          "prestart hook[0] \"/bin/sleep\": timed out after 1 s (killed)");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
}

TEST_CASE("hooks: a large state does not block, a hook that ignores stdin is fine", "[hooks]") {
    std::string big(1 << 20, 'x');
    hooks::run("prestart", {sh_hook("exit 0")}, big);
    TempDir d;
    std::string out = (d.path / "n").string();
    hooks::run("prestart", {sh_hook("wc -c >" + out)}, big);
    CHECK(std::stoul(slurp(out)) == big.size());
    hooks::run_warn_only("poststop", {sh_hook("exit 1")}, "{}"); // only a warning
}

TEST_CASE("hooks: the state memfd round-trips", "[hooks]") {
    UniqueFd fd = hooks::state_memfd("{\"id\":\"c1\"}");
    CHECK(hooks::read_state_memfd(fd.get()) == "{\"id\":\"c1\"}");
}

TEST_CASE("passthrough: NOTIFY_SOCKET is left to the notify proxy", "[hooks]") {
    spec::Config cfg;
    cfg.process.emplace();
    cfg.process->env = {"PATH=/bin"};
    unsetenv("LISTEN_FDS");
    setenv("NOTIFY_SOCKET", "/run/host/notify", 1);
    CHECK(container::prepare_passthrough(cfg, 0).count == 0);
    unsetenv("NOTIFY_SOCKET");
    CHECK(cfg.mounts.empty());
    CHECK(cfg.process->env == std::vector<std::string>{"PATH=/bin"});
}

TEST_CASE("passthrough: LISTEN_FDS for us adds fds, LISTEN_PID is the process's; closed fds skipped", "[hooks]") {
    spec::Config cfg;
    cfg.process.emplace();
    // LISTEN_FDS names fds 3 and up: made here, not close-on-exec as
    // inherited fds are (dup2 onto fds the runner itself does not use).
    if (fcntl(3, F_GETFD) >= 0 || fcntl(4, F_GETFD) >= 0) {
        WARN("fds 3 and 4 are in use by the test runner: case not run");
        return;
    }
    int a = open("/dev/null", O_RDONLY), b = open("/dev/null", O_RDONLY);
    REQUIRE(a == 3);
    REQUIRE(b == 4);
    setenv("LISTEN_FDS", "1", 1);
    setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
    container::Passthrough p = container::prepare_passthrough(cfg, 1);
    CHECK(p.count == 2);
    CHECK(p.listen_fds);
    CHECK(p.closed.empty());
    CHECK(cfg.process->env == std::vector<std::string>{"LISTEN_FDS=1"});
    container::set_listen_pid(cfg.process->env);
    CHECK(cfg.process->env == std::vector<std::string>{"LISTEN_FDS=1", "LISTEN_PID=" + std::to_string(getpid())});
    setenv("LISTEN_PID", "1", 1);
    spec::Config other;
    other.process.emplace();
    CHECK(container::prepare_passthrough(other, 0).count == 0);
    CHECK(other.process->env.empty());
    // Without LISTEN_PID they are ours too (crun).
    unsetenv("LISTEN_PID");
    CHECK(container::prepare_passthrough(other, 0).count == 1);
    unsetenv("LISTEN_FDS");
    other.process->env.clear();
    close(b);
    CHECK(container::prepare_passthrough(other, 2).closed == std::vector<int>{4});
    fcntl(a, F_SETFD, FD_CLOEXEC);
    CHECK(container::prepare_passthrough(other, 1).closed == std::vector<int>{3});
    close(a);
    CHECK(error_of([&] { container::prepare_passthrough(other, -1); }) == "preserve-fds: -1 is negative");
}

TEST_CASE("exe guard: crunpp's own binary by path, symlink or #! chain is refused", "[hooks]") {
    TempDir d;
    const container::FileId self = container::runtime_binary_id();
    std::filesystem::create_symlink("/proc/self/exe", d.path / "link");
    std::ofstream(d.path / "script") << "#!/proc/self/exe\n";
    std::ofstream(d.path / "chain") << "#! " << (d.path / "script").string() << " -x\n";
    std::ofstream(d.path / "fine") << "#!/bin/sh\necho\n";
    for (const char *name : {"link", "script", "chain"}) {
        std::string err = error_of([&] { container::check_not_runtime_binary((d.path / name).string(), self); });
        CHECK(err.find("is the runtime's own binary") != std::string::npos);
    }
    container::check_not_runtime_binary((d.path / "fine").string(), self);
    container::check_not_runtime_binary("/bin/true", self);
}

TEST_CASE("hooks: without env the runtime's environment, with an empty env none", "[hooks]") {
    TempDir d;
    std::string log = (d.path / "log").string();
    setenv("CRUNPP_HOOK_TEST", "from-runtime", 1);
    spec::Hook inherit;
    inherit.path = "/bin/sh";
    inherit.args = {"sh", "-c", "echo \"${CRUNPP_HOOK_TEST:-unset}\" >>" + log};
    spec::Hook empty = inherit;
    empty.env = std::vector<std::string>{};
    hooks::run("prestart", {inherit, empty}, "{}");
    unsetenv("CRUNPP_HOOK_TEST");
    CHECK(slurp(log) == "from-runtime\nunset\n");
}

TEST_CASE("hooks: the working directory and the output files of RunOptions", "[hooks]") {
    TempDir d;
    std::filesystem::create_directory(d.path / "bundle");
    std::string out = (d.path / "out").string(), err = (d.path / "err").string();
    int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    REQUIRE(out_fd >= 0);
    REQUIRE(err_fd >= 0);
    hooks::RunOptions o;
    o.cwd = (d.path / "bundle").string();
    o.stdout_fd = out_fd;
    o.stderr_fd = err_fd;
    hooks::run("createContainer", {sh_hook("pwd; echo e >&2")}, "{}", o);
    close(out_fd);
    close(err_fd);
    CHECK(slurp(out) == o.cwd + "\n");
    CHECK(slurp(err) == "e\n");
    o = {};
    o.cwd = (d.path / "missing").string();
    CHECK(error_of([&] { hooks::run("prestart", {sh_hook("true")}, "{}", o); }) ==
          "prestart hook[0] \"/bin/sh\": exited with status 127: chdir \"" + o.cwd +
              "\": No such file or directory");
}
