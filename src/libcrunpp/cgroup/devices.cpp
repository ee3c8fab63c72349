// SPDX-License-Identifier: GPL-2.0-or-later
// linux.resources.devices: the rule list with the runtime's default devices,
// written as devices.allow/deny (v1) or compiled to an eBPF
// BPF_PROG_TYPE_CGROUP_DEVICE program (v2), loaded with raw bpf(2).
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cgroup_internal.hpp"
#include "crunpp/error.hpp"

namespace crunpp::cgroup::detail {
namespace {

DeviceRule allow(char type, int64_t major, int64_t minor, const char *access = "rwm") {
    DeviceRule r;
    r.type = type;
    r.major = major;
    r.minor = minor;
    r.access = access;
    r.allow = true;
    return r;
}

std::string rule_text(const DeviceRule &r) {
    std::string s(1, r.type);
    if (r.type == 'a')
        return s;
    s += ' ';
    s += r.major < 0 ? "*" : std::to_string(r.major);
    s += ':';
    s += r.minor < 0 ? "*" : std::to_string(r.minor);
    s += ' ' + r.access;
    return s;
}

long bpf(int cmd, union bpf_attr *attr) { return syscall(SYS_bpf, cmd, attr, sizeof *attr); }

struct Program {
    std::vector<struct bpf_insn> insns;
    void add(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
        struct bpf_insn i;
        memset(&i, 0, sizeof i);
        i.code = code;
        i.dst_reg = dst & 0xf;
        i.src_reg = src & 0xf;
        i.off = off;
        i.imm = imm;
        insns.push_back(i);
    }
};

uint32_t access_mask(const std::string &access) {
    uint32_t m = 0;
    for (char c : access)
        m |= c == 'r' ? BPF_DEVCG_ACC_READ : c == 'w' ? BPF_DEVCG_ACC_WRITE : c == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
    return m;
}

// The last matching rule decides (as written to v1 in order), so the rules
// are tested from the last; nothing matching: allowed (v1's initial state;
// a config starting with "deny all" always matches).
Program compile(const std::vector<DeviceRule> &rules) {
    Program p;
    // r2 = device type, r3 = access, r4 = major, r5 = minor
    p.add(BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0);
    p.add(BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xffff);
    p.add(BPF_LDX | BPF_MEM | BPF_W, 3, 1, 0, 0);
    p.add(BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16);
    p.add(BPF_LDX | BPF_MEM | BPF_W, 4, 1, 4, 0);
    p.add(BPF_LDX | BPF_MEM | BPF_W, 5, 1, 8, 0);
    for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
        const DeviceRule &r = *it;
        Program block;
        std::vector<size_t> jumps; // indexes of jumps to the block's end
        if (r.type != 'a') {
            jumps.push_back(block.insns.size());
            block.add(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0, r.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
        }
        uint32_t mask = access_mask(r.access);
        if (mask != (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
            // Matches only when every requested access is in the rule.
            block.add(BPF_ALU | BPF_MOV | BPF_X, 6, 3, 0, 0);
            block.add(BPF_ALU | BPF_AND | BPF_K, 6, 0, 0, static_cast<int32_t>(~mask));
            jumps.push_back(block.insns.size());
            block.add(BPF_JMP | BPF_JNE | BPF_K, 6, 0, 0, 0);
        }
        if (r.type != 'a' && r.major >= 0) {
            jumps.push_back(block.insns.size());
            block.add(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 0, static_cast<int32_t>(r.major));
        }
        if (r.type != 'a' && r.minor >= 0) {
            jumps.push_back(block.insns.size());
            block.add(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, static_cast<int32_t>(r.minor));
        }
        block.add(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, r.allow ? 1 : 0);
        block.add(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        for (size_t j : jumps)
            block.insns[j].off = static_cast<int16_t>(block.insns.size() - j - 1);
        p.insns.insert(p.insns.end(), block.insns.begin(), block.insns.end());
        // A rule matching everything hides the earlier ones (the verifier
        // refuses unreachable code).
        if (jumps.empty())
            return p;
    }
    p.add(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
    p.add(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    return p;
}

// Ids of the device programs attached to the cgroup now.
std::vector<uint32_t> attached_programs(int cg_fd) {
    std::vector<uint32_t> ids(64);
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.query.target_fd = static_cast<uint32_t>(cg_fd);
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = reinterpret_cast<uint64_t>(ids.data());
    attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
    if (bpf(BPF_PROG_QUERY, &attr) < 0)
        return {};
    ids.resize(attr.query.prog_cnt);
    return ids;
}

} // namespace

std::vector<DeviceRule> device_rules(const std::vector<spec::DeviceCgroup> &config,
                                     const std::vector<spec::Device> &devices) {
    std::vector<DeviceRule> out;
    for (const spec::DeviceCgroup &d : config) {
        DeviceRule r;
        std::string type = d.type.value_or("a");
        r.type = type.empty() ? 'a' : type[0];
        r.major = d.major.value_or(-1);
        r.minor = d.minor.value_or(-1);
        r.access = d.access.value_or("rwm");
        r.allow = d.allow;
        out.push_back(r);
    }
    // What every container needs (runc's list): mknod of anything, the
    // standard character devices, the pty slaves, and tun.
    out.push_back(allow('c', -1, -1, "m"));
    out.push_back(allow('b', -1, -1, "m"));
    for (auto [major, minor] : {std::pair<int64_t, int64_t>{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1},
                                {5, 2}, {136, -1}, {10, 200}})
        out.push_back(allow('c', major, minor));
    for (const spec::Device &d : devices)
        if (d.type == "c" || d.type == "u" || d.type == "b")
            out.push_back(allow(d.type == "b" ? 'b' : 'c', d.major, d.minor));
    return out;
}

// One open per file: the kernel takes each write(2) as one rule, in order.
void apply_devices_v1(const std::string &dir, const std::vector<DeviceRule> &rules) {
    UniqueFd files[2]; // deny, allow
    for (const DeviceRule &r : rules) {
        const char *name = r.allow ? "devices.allow" : "devices.deny";
        UniqueFd &fd = files[r.allow ? 1 : 0];
        if (!fd) {
            fd.reset(open((dir + "/" + name).c_str(), O_WRONLY | O_CLOEXEC));
            if (!fd)
                throw_errno("cgroup: open " + dir + "/" + name);
        }
        const std::string text = rule_text(r);
        ssize_t w;
        do
            w = write(fd.get(), text.data(), text.size());
        while (w < 0 && errno == EINTR);
        if (w != static_cast<ssize_t>(text.size()))
            throw Error("cgroup: write \"" + text + "\" to " + dir + "/" + name, w < 0 ? errno : EIO);
    }
}

void apply_devices_bpf(const std::string &dir, const std::vector<DeviceRule> &rules) {
    Program prog = compile(rules);
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    static const char license[] = "GPL";
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = reinterpret_cast<uint64_t>(prog.insns.data());
    attr.insn_cnt = static_cast<uint32_t>(prog.insns.size());
    attr.license = reinterpret_cast<uint64_t>(license);
    int prog_fd = static_cast<int>(bpf(BPF_PROG_LOAD, &attr));
    if (prog_fd < 0 && errno == EINVAL) {
        // Load again with the verifier's log, for the error message.
        std::string log(16384, '\0');
        attr.log_buf = reinterpret_cast<uint64_t>(log.data());
        attr.log_size = static_cast<uint32_t>(log.size());
        attr.log_level = 1;
        prog_fd = static_cast<int>(bpf(BPF_PROG_LOAD, &attr));
        if (prog_fd < 0) {
            int err = errno;
            log.resize(strlen(log.c_str()));
            throw Error("cgroup: linux.resources.devices: load the eBPF device program (verifier: " + log + ")", err);
        }
    }
    if (prog_fd < 0)
        throw_errno("cgroup: linux.resources.devices: load the eBPF device program");
    UniqueFd prog_owner(prog_fd);
    UniqueFd cg(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!cg)
        throw_errno("cgroup: open " + dir);
    std::vector<uint32_t> old = attached_programs(cg.get());
    memset(&attr, 0, sizeof attr);
    attr.target_fd = static_cast<uint32_t>(cg.get());
    attr.attach_bpf_fd = static_cast<uint32_t>(prog_fd);
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpf(BPF_PROG_ATTACH, &attr) < 0)
        throw_errno("cgroup: linux.resources.devices: attach the eBPF device program to " + dir);
    // Programs all have to allow: the previous rules go (update).
    for (uint32_t id : old) {
        memset(&attr, 0, sizeof attr);
        attr.prog_id = id;
        int fd = static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, &attr));
        if (fd < 0)
            continue;
        UniqueFd old_fd(fd);
        memset(&attr, 0, sizeof attr);
        attr.target_fd = static_cast<uint32_t>(cg.get());
        attr.attach_bpf_fd = static_cast<uint32_t>(fd);
        attr.attach_type = BPF_CGROUP_DEVICE;
        if (bpf(BPF_PROG_DETACH, &attr) < 0)
            throw_errno("cgroup: linux.resources.devices: detach the previous eBPF device program from " + dir);
    }
}

} // namespace crunpp::cgroup::detail
