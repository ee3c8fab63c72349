// SPDX-License-Identifier: GPL-2.0-or-later
#include "rpc.hpp"

#include "crunpp/error.hpp"

namespace crunpp::criu {
namespace {

enum Wire : unsigned { Varint = 0, Fixed64 = 1, Bytes = 2, Fixed32 = 5 };

// A protobuf message being written: fields in any order, as the format allows.
class Writer {
public:
    void varint(uint64_t v) {
        while (v >= 0x80) {
            out_ += static_cast<char>((v & 0x7f) | 0x80);
            v >>= 7;
        }
        out_ += static_cast<char>(v);
    }
    void tag(unsigned field, Wire w) { varint(static_cast<uint64_t>(field) << 3 | w); }
    // int32 and enums: negative values take ten bytes (sign-extended).
    void int32(unsigned field, int64_t v) {
        tag(field, Varint);
        varint(static_cast<uint64_t>(v));
    }
    void boolean(unsigned field, bool v) { int32(field, v ? 1 : 0); }
    void bytes(unsigned field, std::string_view s) {
        tag(field, Bytes);
        varint(s.size());
        out_ += s;
    }
    void message(unsigned field, const Writer &m) { bytes(field, m.out_); }
    const std::string &data() const { return out_; }

private:
    std::string out_;
};

struct Field {
    unsigned number = 0;
    Wire wire = Varint;
    uint64_t value = 0;    // Varint (and fixed) fields
    std::string_view data; // Bytes fields
};

// Splits a message into its fields; throws on truncated or unknown wire types.
std::vector<Field> fields(std::string_view in) {
    std::vector<Field> r;
    size_t i = 0;
    auto varint = [&]() {
        uint64_t v = 0;
        for (unsigned shift = 0; shift < 64; shift += 7) {
            if (i >= in.size())
                throw Error("criu RPC: truncated message");
            auto b = static_cast<unsigned char>(in[i++]);
            v |= static_cast<uint64_t>(b & 0x7f) << shift;
            if (!(b & 0x80))
                return v;
        }
        throw Error("criu RPC: malformed varint");
    };
    while (i < in.size()) {
        uint64_t key = varint();
        Field f;
        f.number = static_cast<unsigned>(key >> 3);
        f.wire = static_cast<Wire>(key & 7);
        switch (f.wire) {
        case Varint: f.value = varint(); break;
        case Bytes: {
            uint64_t n = varint();
            if (n > in.size() - i)
                throw Error("criu RPC: truncated message");
            f.data = in.substr(i, n);
            i += n;
            break;
        }
        case Fixed64:
        case Fixed32: {
            size_t n = f.wire == Fixed64 ? 8 : 4;
            if (n > in.size() - i)
                throw Error("criu RPC: truncated message");
            for (size_t k = 0; k < n; k++)
                f.value |= static_cast<uint64_t>(static_cast<unsigned char>(in[i + k])) << (8 * k);
            i += n;
            break;
        }
        default: throw Error("criu RPC: unknown wire type " + std::to_string(f.wire));
        }
        r.push_back(f);
    }
    return r;
}

int32_t as_int32(const Field &f) { return static_cast<int32_t>(static_cast<uint32_t>(f.value)); }

Writer encode_opts(const Opts &o) {
    Writer w;
    w.int32(1, o.images_dir_fd);
    if (o.pid)
        w.int32(2, o.pid);
    w.boolean(3, o.leave_running);
    w.boolean(4, o.ext_unix_sk);
    w.boolean(5, o.tcp_established);
    w.boolean(6, o.evasive_devices);
    w.boolean(7, o.shell_job);
    w.boolean(8, o.file_locks);
    w.int32(9, o.log_level);
    if (!o.log_file.empty())
        w.bytes(10, o.log_file);
    if (!o.page_server_address.empty()) {
        Writer ps;
        ps.bytes(1, o.page_server_address);
        ps.int32(2, o.page_server_port);
        w.message(11, ps);
    }
    w.boolean(12, o.notify_scripts);
    if (!o.root.empty())
        w.bytes(13, o.root);
    if (!o.parent_img.empty())
        w.bytes(14, o.parent_img);
    if (o.track_mem)
        w.boolean(15, true);
    if (o.auto_dedup)
        w.boolean(16, true);
    if (o.work_dir_fd >= 0)
        w.int32(17, o.work_dir_fd);
    for (const auto &[key, val] : o.ext_mnt) {
        Writer m;
        m.bytes(1, key);
        m.bytes(2, val);
        w.message(23, m);
    }
    w.boolean(24, o.manage_cgroups);
    for (const auto &[ctrl, path] : o.cg_root) {
        Writer m;
        if (!ctrl.empty())
            m.bytes(1, ctrl);
        m.bytes(2, path);
        w.message(25, m);
    }
    if (o.rst_sibling)
        w.boolean(26, true);
    for (const auto &[key, fd] : o.inherit_fd) {
        Writer m;
        m.bytes(1, key);
        m.int32(2, fd);
        w.message(27, m);
    }
    if (o.manage_cgroups_mode)
        w.int32(34, static_cast<int>(*o.manage_cgroups_mode));
    for (const std::string &e : o.external)
        w.bytes(37, e);
    if (o.empty_ns)
        w.int32(38, o.empty_ns);
    for (const auto &[ns, file] : o.join_ns) {
        Writer m;
        m.bytes(1, ns);
        m.bytes(2, file);
        w.message(39, m);
    }
    if (!o.freeze_cgroup.empty())
        w.bytes(44, o.freeze_cgroup);
    if (o.lazy_pages)
        w.boolean(48, true);
    if (o.orphan_pts_master)
        w.boolean(50, true);
    if (!o.lsm_profile.empty())
        w.bytes(53, o.lsm_profile);
    if (!o.lsm_mount_context.empty())
        w.bytes(63, o.lsm_mount_context);
    return w;
}

} // namespace

const char *req_type_name(int type) {
    switch (type) {
    case 0: return "EMPTY";
    case 1: return "DUMP";
    case 2: return "RESTORE";
    case 3: return "CHECK";
    case 4: return "PRE_DUMP";
    case 6: return "NOTIFY";
    case 9: return "FEATURE_CHECK";
    case 10: return "VERSION";
    default: return "UNKNOWN";
    }
}

std::string Version::text() const {
    // Appended piecewise: GCC 12's -Wrestrict misfires on chained operator+.
    std::string s = std::to_string(major);
    s += '.';
    s += std::to_string(minor);
    if (sublevel) {
        s += '.';
        s += std::to_string(sublevel);
    }
    return s;
}

std::string encode(const Request &r) {
    Writer w;
    w.int32(1, static_cast<int>(r.type));
    if (r.opts)
        w.message(2, encode_opts(*r.opts));
    if (r.type == ReqType::Notify)
        w.boolean(3, r.notify_success);
    if (r.keep_open)
        w.boolean(4, true);
    if (r.type == ReqType::FeatureCheck) {
        Writer f;
        if (r.feature_mem_track)
            f.boolean(1, true);
        if (r.feature_lazy_pages)
            f.boolean(2, true);
        w.message(5, f);
    }
    return w.data();
}

Response decode(std::string_view data) {
    Response r;
    bool have_type = false, have_success = false;
    for (const Field &f : fields(data)) {
        switch (f.number) {
        case 1:
            r.type = as_int32(f);
            have_type = true;
            break;
        case 2:
            r.success = f.value != 0;
            have_success = true;
            break;
        case 4: // criu_restore_resp
            for (const Field &g : fields(f.data))
                if (g.number == 1)
                    r.restore_pid = as_int32(g);
            break;
        case 5: // criu_notify
            for (const Field &g : fields(f.data)) {
                if (g.number == 1)
                    r.notify_script = std::string(g.data);
                else if (g.number == 2)
                    r.notify_pid = as_int32(g);
            }
            break;
        case 7: r.cr_errno = as_int32(f); break;
        case 8: // criu_features
            for (const Field &g : fields(f.data)) {
                if (g.number == 1)
                    r.feature_mem_track = g.value != 0;
                else if (g.number == 2)
                    r.feature_lazy_pages = g.value != 0;
            }
            break;
        case 9: r.cr_errmsg = std::string(f.data); break;
        case 10: { // criu_version
            Version v;
            for (const Field &g : fields(f.data)) {
                if (g.number == 1)
                    v.major = as_int32(g);
                else if (g.number == 2)
                    v.minor = as_int32(g);
                else if (g.number == 3)
                    v.gitid = std::string(g.data);
                else if (g.number == 4)
                    v.sublevel = as_int32(g);
            }
            r.version = v;
            break;
        }
        default: break; // dump, ps, status: not used
        }
    }
    if (!have_type || !have_success)
        throw Error("criu RPC: response without its required type or success field");
    return r;
}

} // namespace crunpp::criu
