// SPDX-License-Identifier: GPL-2.0-or-later
#include "systemd_bus.hpp"

#include <cerrno>
#include <cstdint>
#include <functional>
#include <utility>

#include "crunpp/error.hpp"
#include "crunpp/log.hpp"
#include "dbus_connection.hpp"
#include "dbus_message.hpp"

namespace crunpp::cgroup::systemd {
namespace {

using dbus::Message;
using dbus::Reader;
using dbus::Type;
using dbus::Writer;

constexpr const char *kDest = "org.freedesktop.systemd1";
constexpr const char *kPath = "/org/freedesktop/systemd1";
constexpr const char *kManager = "org.freedesktop.systemd1.Manager";
// runc waits 30 s for a job; systemd itself gives up on a stuck scope
// start much later, so this bounds the runtime, not systemd.
constexpr int64_t kJobTimeoutMs = 30 * 1000;
constexpr const char *kNoBus = " (is systemd running? use --cgroup-manager=cgroupfs, or drop --systemd-cgroup)";
constexpr const char *kBadBus = " (use --cgroup-manager=cgroupfs, or drop --systemd-cgroup)";

bool is_error(const Message &m, const char *name) { return m.type == Type::kError && m.error_name == name; }

// An error reply's text: its message (the first argument, a string), else
// its name.
std::string error_text(const Message &m) {
    if (m.signature.empty() || m.signature[0] != 's')
        return m.error_name;
    try {
        std::string text = Reader(m).s();
        return text.empty() ? m.error_name : text;
    } catch (const Error &) {
        return m.error_name;
    }
}

std::string names(const Properties &props) {
    std::string out;
    for (const Property &p : props)
        out += (out.empty() ? "" : " ") + p.name;
    return out;
}

// The one object path a reply of signature "o" holds.
std::string read_path(const Message &reply, const std::string &what) {
    try {
        Reader r(reply);
        std::string path = r.o();
        r.end();
        return path;
    } catch (Error &e) {
        e.wrap("systemd cgroup driver: " + what + ": read the reply");
        throw;
    }
}

} // namespace

struct Bus::Impl {
    dbus::Connection conn;
    bool user = false;
    std::string address;
    bool subscribed = false;
    // The unique name of the manager that answered StartTransientUnit or
    // StopUnit: its JobRemoved signals are the ones to trust.
    std::string manager;

    std::string where() const { return std::string(user ? "the user's" : "the system") + " bus " + address; }

    // A call; the reply is a method return or an error message.
    Message call(Message m) {
        try {
            return conn.call(std::move(m));
        } catch (Error &e) {
            e.wrap("systemd cgroup driver");
            throw;
        }
    }

    Message manager_call(const char *method, const std::string &signature, Writer &&args) {
        Message m;
        m.destination = kDest;
        m.path = kPath;
        m.interface = kManager;
        m.member = method;
        m.signature = signature;
        m.body = args.take();
        return call(std::move(m));
    }

    // JobRemoved (uoss: id, job, unit, result), kept while calls wait.
    void subscribe() {
        if (subscribed)
            return;
        conn.keep_signals([](const Message &m) {
            return m.interface == kManager && m.member == "JobRemoved" && m.path == kPath && m.signature == "uoss";
        });
        Message m;
        m.destination = "org.freedesktop.DBus";
        m.path = "/org/freedesktop/DBus";
        m.interface = "org.freedesktop.DBus";
        m.member = "AddMatch";
        m.signature = "s";
        Writer w;
        w.s(std::string("type='signal',sender='") + kDest + "',interface='" + kManager +
            "',member='JobRemoved',path='" + kPath + "'");
        m.body = w.take();
        Message r = call(std::move(m));
        if (r.type == Type::kError)
            throw Error("systemd cgroup driver: watch for JobRemoved on " + where() + ": " + error_text(r));
        subscribed = true;
    }

    void wait_job(const std::string &job, const std::string &what) {
        const int64_t deadline = dbus::now_ms() + kJobTimeoutMs;
        for (;;) {
            for (const Message &s : conn.signals()) {
                // The bus delivers the manager's signals by the match; a
                // peer sending one to us directly has another sender.
                if (!manager.empty() && s.sender != manager)
                    continue;
                Reader r(s);
                r.u();
                const std::string path = r.o();
                r.s();
                const std::string result = r.s();
                if (path != job)
                    continue;
                if (result != "done")
                    throw Error("systemd cgroup driver: " + what + ": the job finished with result \"" + result +
                                "\" (see journalctl)");
                conn.signals().clear();
                return;
            }
            // None of those is this job's.
            conn.signals().clear();
            bool got;
            try {
                got = conn.wait_signal(deadline);
            } catch (Error &e) {
                e.wrap("systemd cgroup driver: " + what);
                throw;
            }
            if (!got)
                throw Error("systemd cgroup driver: " + what + ": no answer from systemd in " +
                                std::to_string(kJobTimeoutMs / 1000) + " s",
                            ETIMEDOUT);
        }
    }
};

Bus::Bus(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Bus::Bus(Bus &&) noexcept = default;
Bus::~Bus() = default;

Bus Bus::open(bool user) {
    auto impl = std::make_unique<Impl>();
    impl->user = user;
    impl->address = user ? dbus::user_bus_address() : dbus::system_bus_address();
    if (impl->address.empty())
        throw Error(std::string("systemd cgroup driver: connect to the user's bus: neither DBUS_SESSION_BUS_ADDRESS "
                                "nor XDG_RUNTIME_DIR is set") +
                    kNoBus);
    try {
        impl->conn = dbus::Connection::open(impl->address, impl->where());
    } catch (const Error &e) {
        // A socket that does not answer: no bus there; else the address or
        // the bus itself is wrong, which the error says.
        throw Error(std::string("systemd cgroup driver: ") + e.what() + (e.errnum() != 0 ? kNoBus : kBadBus));
    }
    return Bus(std::move(impl));
}

bool Bus::start_unit(const std::string &unit, const Properties &props, bool &unit_made) {
    log::debug("systemd: StartTransientUnit " + unit + " on " + impl_->where() + ": " + names(props));
    impl_->subscribe();
    for (int attempt = 0;; attempt++) {
        Writer w;
        w.s(unit);
        w.s("replace");
        dbus::write_properties(w, props);
        w.close_array(w.open_array(8)); // no auxiliary units: a(sa(sv)) empty
        // From the call on a unit may exist (a call without an answer may
        // have made one), unless the manager answers with an error.
        unit_made = true;
        Message r = impl_->manager_call("StartTransientUnit", "ssa(sv)a(sa(sv))", std::move(w));
        if (r.type == Type::kError)
            unit_made = false;
        if (attempt == 0 && is_error(r, "org.freedesktop.systemd1.UnitExists")) {
            // A failed unit of an earlier container with this name: reset,
            // so that systemd drops it, and start again once.
            reset_failed(unit);
            continue;
        }
        if (is_error(r, "org.freedesktop.systemd1.UnitExists"))
            return false;
        if (r.type == Type::kError)
            throw Error("systemd cgroup driver: start unit " + unit + " on " + impl_->where() + ": " + error_text(r) +
                        (is_error(r, "org.freedesktop.DBus.Error.ServiceUnknown") ||
                                 is_error(r, "org.freedesktop.DBus.Error.NameHasNoOwner")
                             ? " (no systemd on this bus: use --cgroup-manager=cgroupfs, or drop --systemd-cgroup)"
                             : ""));
        const std::string job = read_path(r, "start unit " + unit);
        impl_->manager = r.sender;
        impl_->wait_job(job, "start unit " + unit);
        return true;
    }
}

void Bus::stop_unit(const std::string &unit) {
    impl_->subscribe();
    Writer w;
    w.s(unit);
    w.s("replace");
    Message r = impl_->manager_call("StopUnit", "ss", std::move(w));
    if (is_error(r, "org.freedesktop.systemd1.NoSuchUnit"))
        return;
    if (r.type == Type::kError)
        throw Error("systemd cgroup driver: stop unit " + unit + " on " + impl_->where() + ": " + error_text(r));
    const std::string job = read_path(r, "stop unit " + unit);
    impl_->manager = r.sender;
    impl_->wait_job(job, "stop unit " + unit);
}

void Bus::reset_failed(const std::string &unit) noexcept {
    try {
        Writer w;
        w.s(unit);
        impl_->manager_call("ResetFailedUnit", "s", std::move(w));
    } catch (const std::exception &e) {
        log::debug(e.what());
    }
}

void Bus::set_properties(const std::string &unit, const Properties &props) {
    if (props.empty())
        return;
    log::debug("systemd: SetUnitProperties " + unit + " on " + impl_->where() + ": " + names(props));
    Writer w;
    w.s(unit);
    w.b(true); // runtime: gone with the unit
    dbus::write_properties(w, props);
    Message r = impl_->manager_call("SetUnitProperties", "sba(sv)", std::move(w));
    if (r.type == Type::kError)
        throw Error("systemd cgroup driver: set the properties of " + unit + " on " + impl_->where() + ": " +
                    error_text(r));
}

void Bus::attach(const std::string &unit, pid_t pid, const std::string &sub) {
    const std::string path = sub.empty() || sub[0] != '/' ? "/" + sub : sub;
    Writer w;
    w.s(unit);
    w.s(path);
    const size_t pids = w.open_array(4);
    w.u(static_cast<uint32_t>(pid));
    w.close_array(pids);
    Message r = impl_->manager_call("AttachProcessesToUnit", "ssau", std::move(w));
    if (r.type == Type::kError)
        throw Error("systemd cgroup driver: attach process " + std::to_string(pid) + " to " + unit +
                    (path == "/" ? "" : " (cgroup " + path + " below it)") + " on " + impl_->where() + ": " +
                    error_text(r));
}

std::string Bus::control_group(const std::string &unit) {
    Writer w;
    w.s(unit);
    Message r = impl_->manager_call("GetUnit", "s", std::move(w));
    if (r.type == Type::kError)
        throw Error("systemd cgroup driver: get unit " + unit + " on " + impl_->where() + ": " + error_text(r));
    const std::string object = read_path(r, "get unit " + unit);
    const bool slice = unit.size() > 6 && unit.compare(unit.size() - 6, 6, ".slice") == 0;
    Message get;
    get.destination = kDest;
    get.path = object;
    get.interface = "org.freedesktop.DBus.Properties";
    get.member = "Get";
    get.signature = "ss";
    Writer args;
    args.s(slice ? "org.freedesktop.systemd1.Slice" : "org.freedesktop.systemd1.Scope");
    args.s("ControlGroup");
    get.body = args.take();
    r = impl_->call(std::move(get));
    if (r.type == Type::kError)
        throw Error("systemd cgroup driver: the cgroup of " + unit + ": " + error_text(r));
    std::string out;
    try {
        Reader rd(r);
        Value v = rd.v();
        rd.end();
        if (const std::string *s = std::get_if<std::string>(&v))
            out = *s;
        else
            throw Error("ControlGroup is not a string");
    } catch (Error &e) {
        e.wrap("systemd cgroup driver: the cgroup of " + unit);
        throw;
    }
    if (out.empty())
        throw Error("systemd cgroup driver: unit " + unit + " has no cgroup");
    return out;
}

} // namespace crunpp::cgroup::systemd
