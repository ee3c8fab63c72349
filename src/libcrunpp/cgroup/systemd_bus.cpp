// SPDX-License-Identifier: GPL-2.0-or-later
#include "systemd_bus.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <utility>
#include <vector>

#include "crunpp/error.hpp"
#include "crunpp/log.hpp"

namespace crunpp::cgroup::systemd {
namespace {

// sd-bus's ABI, declared here: no build dependency on libsystemd-dev, and
// these are stable public symbols of libsystemd.so.0 (systemd >= 237 for
// sd_bus_match_signal).
struct sd_bus;
struct sd_bus_message;
struct sd_bus_slot;
struct sd_bus_error {
    const char *name;
    const char *message;
    int need_free;
};
using sd_bus_message_handler_t = int (*)(sd_bus_message *, void *, sd_bus_error *);

struct Api {
    int (*open_system)(sd_bus **);
    int (*open_user)(sd_bus **);
    sd_bus *(*flush_close_unref)(sd_bus *);
    int (*new_method_call)(sd_bus *, sd_bus_message **, const char *, const char *, const char *, const char *);
    int (*append)(sd_bus_message *, const char *, ...);
    int (*append_array)(sd_bus_message *, char, const void *, size_t);
    int (*open_container)(sd_bus_message *, char, const char *);
    int (*close_container)(sd_bus_message *);
    int (*call)(sd_bus *, sd_bus_message *, uint64_t, sd_bus_error *, sd_bus_message **);
    int (*read)(sd_bus_message *, const char *, ...);
    sd_bus_message *(*message_unref)(sd_bus_message *);
    int (*match_signal)(sd_bus *, sd_bus_slot **, const char *, const char *, const char *, const char *,
                        sd_bus_message_handler_t, void *);
    sd_bus_slot *(*slot_unref)(sd_bus_slot *);
    int (*process)(sd_bus *, sd_bus_message **);
    int (*wait)(sd_bus *, uint64_t);
    void (*error_free)(sd_bus_error *);
    int (*get_property_string)(sd_bus *, const char *, const char *, const char *, const char *, sd_bus_error *,
                               char **);
};

constexpr const char *kLibrary = "libsystemd.so.0";
constexpr const char *kDest = "org.freedesktop.systemd1";
constexpr const char *kPath = "/org/freedesktop/systemd1";
constexpr const char *kManager = "org.freedesktop.systemd1.Manager";
// runc waits 30 s for a job; systemd itself gives up on a stuck scope
// start much later, so this bounds the runtime, not systemd.
constexpr uint64_t kJobTimeoutUsec = 30ull * 1000000;
constexpr uint64_t kCallTimeoutUsec = 25ull * 1000000;

template <typename F> void resolve(void *lib, F &fn, const char *name) {
    void *sym = dlsym(lib, name);
    if (!sym)
        throw Error(std::string("systemd cgroup driver: ") + kLibrary + " has no " + name +
                    " (systemd too old?); use --cgroup-manager=cgroupfs");
    fn = reinterpret_cast<F>(sym);
}

// Loaded once per process, never unloaded.
const Api &api() {
    static Api a = [] {
        void *lib = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
        if (!lib)
            throw Error(std::string("systemd cgroup driver: cannot load ") + kLibrary + ": " + dlerror() +
                        " (install libsystemd0, or use --cgroup-manager=cgroupfs)");
        Api x{};
        resolve(lib, x.open_system, "sd_bus_open_system");
        resolve(lib, x.open_user, "sd_bus_open_user");
        resolve(lib, x.flush_close_unref, "sd_bus_flush_close_unref");
        resolve(lib, x.new_method_call, "sd_bus_message_new_method_call");
        resolve(lib, x.append, "sd_bus_message_append");
        resolve(lib, x.append_array, "sd_bus_message_append_array");
        resolve(lib, x.open_container, "sd_bus_message_open_container");
        resolve(lib, x.close_container, "sd_bus_message_close_container");
        resolve(lib, x.call, "sd_bus_call");
        resolve(lib, x.read, "sd_bus_message_read");
        resolve(lib, x.message_unref, "sd_bus_message_unref");
        resolve(lib, x.match_signal, "sd_bus_match_signal");
        resolve(lib, x.slot_unref, "sd_bus_slot_unref");
        resolve(lib, x.process, "sd_bus_process");
        resolve(lib, x.wait, "sd_bus_wait");
        resolve(lib, x.error_free, "sd_bus_error_free");
        resolve(lib, x.get_property_string, "sd_bus_get_property_string");
        return x;
    }();
    return a;
}

// The address sd-bus connects to, for the error message.
std::string address_of(bool user) {
    if (user) {
        if (const char *a = getenv("DBUS_SESSION_BUS_ADDRESS"); a && *a)
            return a;
        if (const char *d = getenv("XDG_RUNTIME_DIR"); d && *d)
            return std::string("unix:path=") + d + "/bus";
        return "(none: neither DBUS_SESSION_BUS_ADDRESS nor XDG_RUNTIME_DIR is set)";
    }
    if (const char *a = getenv("DBUS_SYSTEM_BUS_ADDRESS"); a && *a)
        return a;
    return "unix:path=/run/dbus/system_bus_socket";
}

struct Message {
    sd_bus_message *m = nullptr;
    Message() = default;
    Message(const Message &) = delete;
    Message &operator=(const Message &) = delete;
    ~Message() {
        if (m)
            api().message_unref(m);
    }
};

struct BusError {
    sd_bus_error e{nullptr, nullptr, 0};
    BusError() = default;
    BusError(const BusError &) = delete;
    BusError &operator=(const BusError &) = delete;
    ~BusError() { api().error_free(&e); }
    bool is(const char *name) const { return e.name && strcmp(e.name, name) == 0; }
    std::string text(int r) const {
        if (e.message && *e.message)
            return e.message;
        return strerror(-r);
    }
};

void check(int r, const std::string &what) {
    if (r < 0)
        throw Error("systemd cgroup driver: " + what, -r);
}

void append_value(sd_bus_message *m, const Value &v) {
    const Api &a = api();
    auto variant = [&](const char *sig, auto &&body) {
        check(a.open_container(m, 'v', sig), "build the message");
        body();
        check(a.close_container(m), "build the message");
    };
    std::visit(
        [&](const auto &x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, bool>)
                variant("b", [&] { check(a.append(m, "b", static_cast<int>(x)), "build the message"); });
            else if constexpr (std::is_same_v<T, uint64_t>)
                variant("t", [&] { check(a.append(m, "t", x), "build the message"); });
            else if constexpr (std::is_same_v<T, int64_t>)
                variant("x", [&] { check(a.append(m, "x", x), "build the message"); });
            else if constexpr (std::is_same_v<T, uint32_t>)
                variant("u", [&] { check(a.append(m, "u", x), "build the message"); });
            else if constexpr (std::is_same_v<T, int32_t>)
                variant("i", [&] { check(a.append(m, "i", x), "build the message"); });
            else if constexpr (std::is_same_v<T, uint16_t>)
                variant("q", [&] { check(a.append(m, "q", static_cast<unsigned>(x)), "build the message"); });
            else if constexpr (std::is_same_v<T, int16_t>)
                variant("n", [&] { check(a.append(m, "n", static_cast<int>(x)), "build the message"); });
            else if constexpr (std::is_same_v<T, uint8_t>)
                variant("y", [&] { check(a.append(m, "y", static_cast<unsigned>(x)), "build the message"); });
            else if constexpr (std::is_same_v<T, double>)
                variant("d", [&] { check(a.append(m, "d", x), "build the message"); });
            else if constexpr (std::is_same_v<T, std::string>)
                variant("s", [&] { check(a.append(m, "s", x.c_str()), "build the message"); });
            else if constexpr (std::is_same_v<T, std::vector<uint8_t>>)
                variant("ay", [&] { check(a.append_array(m, 'y', x.data(), x.size()), "build the message"); });
            else if constexpr (std::is_same_v<T, std::vector<uint32_t>>)
                variant("au", [&] {
                    check(a.append_array(m, 'u', x.data(), x.size() * sizeof(uint32_t)), "build the message");
                });
            else if constexpr (std::is_same_v<T, std::vector<std::string>>)
                variant("as", [&] {
                    check(a.open_container(m, 'a', "s"), "build the message");
                    for (const std::string &s : x)
                        check(a.append(m, "s", s.c_str()), "build the message");
                    check(a.close_container(m), "build the message");
                });
            else
                variant("a(ss)", [&] {
                    check(a.open_container(m, 'a', "(ss)"), "build the message");
                    for (const DeviceAllow &d : x)
                        check(a.append(m, "(ss)", d.path.c_str(), d.access.c_str()), "build the message");
                    check(a.close_container(m), "build the message");
                });
        },
        v);
}

void append_properties(sd_bus_message *m, const Properties &props) {
    const Api &a = api();
    check(a.open_container(m, 'a', "(sv)"), "build the message");
    for (const Property &p : props) {
        check(a.open_container(m, 'r', "sv"), "build the message");
        check(a.append(m, "s", p.name.c_str()), "build the message");
        append_value(m, p.value);
        check(a.close_container(m), "build the message");
    }
    check(a.close_container(m), "build the message");
}

std::string names(const Properties &props) {
    std::string out;
    for (const Property &p : props)
        out += (out.empty() ? "" : " ") + p.name;
    return out;
}

uint64_t now_usec() {
    struct timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

} // namespace

struct Bus::Impl {
    sd_bus *bus = nullptr;
    bool user = false;
    std::string address;
    // JobRemoved signals seen: job path -> result.
    std::vector<std::pair<std::string, std::string>> removed;
    sd_bus_slot *slot = nullptr;

    ~Impl() {
        if (slot)
            api().slot_unref(slot);
        if (bus)
            api().flush_close_unref(bus);
    }

    std::string where() const {
        return std::string(user ? "the user's" : "the system") + " bus " + address;
    }

    static int on_job_removed(sd_bus_message *m, void *self, sd_bus_error *) {
        uint32_t id = 0;
        const char *job = nullptr, *unit = nullptr, *result = nullptr;
        if (api().read(m, "uoss", &id, &job, &unit, &result) >= 0 && job && result)
            static_cast<Impl *>(self)->removed.emplace_back(job, result);
        return 0;
    }

    void subscribe() {
        if (slot)
            return;
        check(api().match_signal(bus, &slot, kDest, kPath, kManager, "JobRemoved", on_job_removed, this),
              "watch for JobRemoved on " + where());
    }

    // A manager method; the reply in `reply`; false with the error filled.
    int call(const char *method, Message &reply, BusError &err, const std::function<void(sd_bus_message *)> &args) {
        Message msg;
        check(api().new_method_call(bus, &msg.m, kDest, kPath, kManager, method), std::string("call ") + method);
        args(msg.m);
        return api().call(bus, msg.m, kCallTimeoutUsec, &err.e, &reply.m);
    }

    void wait_job(const std::string &job, const std::string &what) {
        const uint64_t deadline = now_usec() + kJobTimeoutUsec;
        for (;;) {
            for (const auto &[path, result] : removed)
                if (path == job) {
                    if (result != "done")
                        throw Error("systemd cgroup driver: " + what + ": the job finished with result \"" + result +
                                    "\" (see journalctl)");
                    return;
                }
            int r = api().process(bus, nullptr);
            check(r, what + ": read from " + where());
            if (r > 0)
                continue;
            uint64_t now = now_usec();
            if (now >= deadline)
                throw Error("systemd cgroup driver: " + what + ": no answer from systemd in " +
                                std::to_string(kJobTimeoutUsec / 1000000) + " s",
                            ETIMEDOUT);
            r = api().wait(bus, deadline - now);
            if (r < 0 && r != -EINTR)
                check(r, what + ": wait on " + where());
        }
    }
};

Bus::Bus(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Bus::Bus(Bus &&) noexcept = default;
Bus::~Bus() = default;

bool library_available() {
    try {
        api();
        return true;
    } catch (const Error &) {
        return false;
    }
}

Bus Bus::open(bool user) {
    const Api &a = api();
    auto impl = std::make_unique<Impl>();
    impl->user = user;
    impl->address = address_of(user);
    int r = user ? a.open_user(&impl->bus) : a.open_system(&impl->bus);
    if (r < 0)
        throw Error("systemd cgroup driver: connect to " + impl->where() + ": " + strerror(-r) +
                    " (is systemd running? use --cgroup-manager=cgroupfs, or drop --systemd-cgroup)");
    return Bus(std::move(impl));
}

bool Bus::start_unit(const std::string &unit, const Properties &props) {
    log::debug("systemd: StartTransientUnit " + unit + " on " + impl_->where() + ": " + names(props));
    impl_->subscribe();
    for (int attempt = 0;; attempt++) {
        Message reply;
        BusError err;
        int r = impl_->call("StartTransientUnit", reply, err, [&](sd_bus_message *m) {
            check(api().append(m, "ss", unit.c_str(), "replace"), "build the message");
            append_properties(m, props);
            check(api().append(m, "a(sa(sv))", 0), "build the message");
        });
        if (r < 0 && attempt == 0 && err.is("org.freedesktop.systemd1.UnitExists")) {
            // A failed unit of an earlier container with this name: reset,
            // so that systemd drops it, and start again once.
            reset_failed(unit);
            continue;
        }
        if (r < 0 && err.is("org.freedesktop.systemd1.UnitExists"))
            return false;
        if (r < 0)
            throw Error("systemd cgroup driver: start unit " + unit + " on " + impl_->where() + ": " + err.text(r) +
                        (err.is("org.freedesktop.DBus.Error.ServiceUnknown") ||
                                 err.is("org.freedesktop.DBus.Error.NameHasNoOwner")
                             ? " (no systemd on this bus: use --cgroup-manager=cgroupfs, or drop --systemd-cgroup)"
                             : ""));
        const char *job = nullptr;
        check(api().read(reply.m, "o", &job), "start unit " + unit + ": read the reply");
        impl_->wait_job(job, "start unit " + unit);
        return true;
    }
}

void Bus::stop_unit(const std::string &unit) {
    impl_->subscribe();
    Message reply;
    BusError err;
    int r = impl_->call("StopUnit", reply, err, [&](sd_bus_message *m) {
        check(api().append(m, "ss", unit.c_str(), "replace"), "build the message");
    });
    if (r < 0) {
        if (err.is("org.freedesktop.systemd1.NoSuchUnit"))
            return;
        throw Error("systemd cgroup driver: stop unit " + unit + " on " + impl_->where() + ": " + err.text(r));
    }
    const char *job = nullptr;
    check(api().read(reply.m, "o", &job), "stop unit " + unit + ": read the reply");
    impl_->wait_job(job, "stop unit " + unit);
}

void Bus::reset_failed(const std::string &unit) noexcept {
    try {
        Message reply;
        BusError err;
        impl_->call("ResetFailedUnit", reply, err, [&](sd_bus_message *m) {
            check(api().append(m, "s", unit.c_str()), "build the message");
        });
    } catch (const Error &e) {
        log::debug(e.what());
    }
}

void Bus::set_properties(const std::string &unit, const Properties &props) {
    if (props.empty())
        return;
    log::debug("systemd: SetUnitProperties " + unit + " on " + impl_->where() + ": " + names(props));
    Message reply;
    BusError err;
    int r = impl_->call("SetUnitProperties", reply, err, [&](sd_bus_message *m) {
        check(api().append(m, "sb", unit.c_str(), 1), "build the message");
        append_properties(m, props);
    });
    if (r < 0)
        throw Error("systemd cgroup driver: set the properties of " + unit + " on " + impl_->where() + ": " +
                    err.text(r));
}

void Bus::attach(const std::string &unit, pid_t pid, const std::string &sub) {
    Message reply;
    BusError err;
    const std::string path = sub.empty() || sub[0] != '/' ? "/" + sub : sub;
    int r = impl_->call("AttachProcessesToUnit", reply, err, [&](sd_bus_message *m) {
        check(api().append(m, "ssau", unit.c_str(), path.c_str(), 1, static_cast<uint32_t>(pid)), "build the message");
    });
    if (r < 0)
        throw Error("systemd cgroup driver: attach process " + std::to_string(pid) + " to " + unit +
                    (path == "/" ? "" : " (cgroup " + path + " below it)") + " on " + impl_->where() + ": " +
                    err.text(r));
}

std::string Bus::control_group(const std::string &unit) {
    Message reply;
    BusError err;
    int r = impl_->call("GetUnit", reply, err, [&](sd_bus_message *m) {
        check(api().append(m, "s", unit.c_str()), "build the message");
    });
    if (r < 0)
        throw Error("systemd cgroup driver: get unit " + unit + " on " + impl_->where() + ": " + err.text(r));
    const char *object = nullptr;
    check(api().read(reply.m, "o", &object), "get unit " + unit + ": read the reply");
    const bool slice = unit.size() > 6 && unit.compare(unit.size() - 6, 6, ".slice") == 0;
    BusError perr;
    char *cg = nullptr;
    r = api().get_property_string(impl_->bus, kDest, object,
                                  slice ? "org.freedesktop.systemd1.Slice" : "org.freedesktop.systemd1.Scope",
                                  "ControlGroup", &perr.e, &cg);
    if (r < 0)
        throw Error("systemd cgroup driver: the cgroup of " + unit + ": " + perr.text(r));
    std::string out = cg ? cg : "";
    free(cg);
    if (out.empty())
        throw Error("systemd cgroup driver: unit " + unit + " has no cgroup");
    return out;
}

} // namespace crunpp::cgroup::systemd
