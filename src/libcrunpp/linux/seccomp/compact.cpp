// SPDX-License-Identifier: GPL-2.0-or-later
// A shorter equivalent of libseccomp's program (layout: seccomp.hpp).
//
// Loading a filter costs the kernel time in proportion to its length (cBPF
// to eBPF conversion, JIT, and the emulation that fills the per-syscall
// action cache). libseccomp's binary tree still tests every syscall number
// by itself (one jeq per allowed syscall and architecture: 1408 instructions
// for podman's default profile). Here the program is evaluated for every
// architecture and every range of syscall numbers that no comparison in the
// program tells apart; numbers whose outcome is fixed become ranges in a
// new binary tree that returns at once, and the few whose outcome depends on
// the arguments jump to libseccomp's own code, pruned to what those numbers
// can reach. The result is checked against the original by running both;
// any doubt keeps libseccomp's program.
#include "seccomp.hpp"

#include <linux/seccomp.h>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

namespace crunpp::linux {
namespace {

constexpr size_t kMaxInstructions = 4096;
constexpr uint32_t kNrOffset = 0;   // offsetof(seccomp_data, nr)
constexpr uint32_t kArchOffset = 4; // offsetof(seccomp_data, arch)

// A program shape this pass does not handle: keep libseccomp's.
struct Unsupported {};

// What the accumulator holds during the abstract run: a known value (from
// the arch or the syscall number, possibly through ALU ops) or something
// derived from the arguments or the instruction pointer (unknown).
enum class Src : uint8_t { None, Arch, Nr, Unknown };
struct Acc {
    Src src = Src::None;
    uint32_t value = 0;
    bool operator<(const Acc &o) const { return std::tie(src, value) < std::tie(o.src, o.value); }
};

uint32_t alu(uint16_t op, uint32_t a, uint32_t k) {
    switch (op) {
    case BPF_ADD: return a + k;
    case BPF_SUB: return a - k;
    case BPF_AND: return a & k;
    case BPF_OR: return a | k;
    case BPF_LSH: return k < 32 ? a << k : 0;
    case BPF_RSH: return k < 32 ? a >> k : 0;
    default: throw Unsupported{};
    }
}

bool jump_taken(uint16_t op, uint32_t a, uint32_t k) {
    switch (op) {
    case BPF_JEQ: return a == k;
    case BPF_JGT: return a > k;
    case BPF_JGE: return a >= k;
    case BPF_JSET: return (a & k) != 0;
    default: throw Unsupported{};
    }
}

// Every path of `prog` for a fixed arch and syscall number, both branches
// where the arguments decide. Records the return values reached and, when
// asked, the instructions and branch edges used.
struct Explorer {
    const std::vector<sock_filter> &prog;
    std::vector<bool> *reached = nullptr;
    std::vector<uint8_t> *edges = nullptr; // bit 1: jt taken, bit 2: jf taken
    std::set<uint32_t> *arch_values = nullptr; // the arch values compared with

    std::set<uint32_t> run(uint32_t arch, uint32_t nr) {
        std::set<uint32_t> rets;
        std::set<std::pair<size_t, Acc>> seen;
        std::vector<std::pair<size_t, Acc>> pending{{0, Acc{}}};
        while (!pending.empty()) {
            auto [pc, acc] = pending.back();
            pending.pop_back();
            if (pc >= prog.size())
                throw Unsupported{};
            if (!seen.insert({pc, acc}).second)
                continue;
            if (reached)
                (*reached)[pc] = true;
            const sock_filter &in = prog[pc];
            switch (BPF_CLASS(in.code)) {
            case BPF_LD:
                if (in.code != (BPF_LD | BPF_W | BPF_ABS))
                    throw Unsupported{};
                if (in.k == kArchOffset)
                    acc = {Src::Arch, arch};
                else if (in.k == kNrOffset)
                    acc = {Src::Nr, nr};
                else
                    acc = {Src::Unknown, 0};
                pending.push_back({pc + 1, acc});
                break;
            case BPF_ALU:
                if (BPF_SRC(in.code) != BPF_K)
                    throw Unsupported{};
                // The ranges come from the constants compared with the raw
                // number; arithmetic on the number or arch would map them
                // elsewhere, so such a program is kept as it is.
                if (acc.src == Src::Arch || acc.src == Src::Nr)
                    throw Unsupported{};
                alu(BPF_OP(in.code), 0, 0); // an unsupported op still throws
                pending.push_back({pc + 1, acc});
                break;
            case BPF_JMP: {
                uint16_t op = BPF_OP(in.code);
                if (op == BPF_JA) {
                    pending.push_back({pc + 1 + in.k, acc});
                    break;
                }
                if (BPF_SRC(in.code) != BPF_K)
                    throw Unsupported{};
                // The architectures not named must all behave alike: only
                // equality tests on the arch value.
                if (acc.src == Src::Arch && op != BPF_JEQ)
                    throw Unsupported{};
                if (acc.src == Src::Arch && arch_values)
                    arch_values->insert(in.k);
                bool t = true, f = true;
                if (acc.src == Src::Arch || acc.src == Src::Nr) {
                    t = jump_taken(op, acc.value, in.k);
                    f = !t;
                } else if (acc.src == Src::None) {
                    throw Unsupported{};
                }
                if (edges)
                    (*edges)[pc] |= static_cast<uint8_t>((t ? 1 : 0) | (f ? 2 : 0));
                if (t)
                    pending.push_back({pc + 1 + in.jt, acc});
                if (f)
                    pending.push_back({pc + 1 + in.jf, acc});
                break;
            }
            case BPF_RET:
                if (BPF_RVAL(in.code) != BPF_K)
                    throw Unsupported{};
                rets.insert(in.k);
                break;
            default: throw Unsupported{};
            }
        }
        return rets;
    }
};

// One range of syscall numbers [start, next start) of one architecture:
// a fixed return value, or "depends on the arguments".
struct Range {
    uint32_t start;
    bool depends;
    uint32_t ret;
    bool same_leaf(const Range &o) const { return depends == o.depends && (depends || ret == o.ret); }
};

struct ArchPlan {
    uint32_t arch;
    std::vector<Range> ranges;
};

// Values at which some comparison in the program can change its outcome.
std::vector<uint32_t> breakpoints(const std::vector<sock_filter> &prog) {
    std::set<uint32_t> b{0};
    for (const sock_filter &in : prog) {
        if (BPF_CLASS(in.code) != BPF_JMP || BPF_OP(in.code) == BPF_JA)
            continue;
        if (BPF_OP(in.code) == BPF_JSET)
            throw Unsupported{}; // bit tests on the number would split ranges
        b.insert(in.k);
        if (in.k != UINT32_MAX)
            b.insert(in.k + 1);
    }
    return {b.begin(), b.end()};
}

// An arch value the program does not name (for "any other architecture").
uint32_t other_arch(const std::set<uint32_t> &archs) {
    uint32_t v = 0;
    while (archs.count(v))
        v++;
    return v;
}

// Every arch value the program compares with on any path of the named
// architectures, of one other, for every range edge: then any unnamed
// architecture takes the other one's paths.
std::vector<uint32_t> architectures(const std::vector<sock_filter> &prog, const std::vector<uint32_t> &points) {
    std::set<uint32_t> archs, done;
    Explorer x{prog};
    x.arch_values = &archs;
    for (;;) {
        std::vector<uint32_t> pending;
        for (uint32_t a : archs)
            if (!done.count(a))
                pending.push_back(a);
        uint32_t other = other_arch(archs);
        if (!done.count(other))
            pending.push_back(other);
        if (pending.empty())
            return {archs.begin(), archs.end()};
        for (uint32_t a : pending) {
            for (uint32_t point : points)
                x.run(a, point);
            done.insert(a);
        }
    }
}

class Emitter {
public:
    std::vector<sock_filter> out;
    // ja instructions to patch with the start of the pruned program.
    std::vector<size_t> to_pruned;

    void emit(sock_filter in) { out.push_back(in); }
    size_t here() const { return out.size(); }

    void leaf(const Range &r) {
        if (r.depends) {
            to_pruned.push_back(here());
            emit(BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0));
        } else {
            emit(BPF_STMT(BPF_RET | BPF_K, r.ret));
        }
    }

    // Binary search over ranges[lo, hi]; the left half follows each test.
    void tree(const std::vector<Range> &ranges, size_t lo, size_t hi) {
        if (lo == hi) {
            leaf(ranges[lo]);
            return;
        }
        size_t mid = lo + (hi - lo + 1) / 2;
        size_t test = here();
        emit(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, ranges[mid].start, 0, 0));
        tree(ranges, lo, mid - 1);
        size_t left = here() - test - 1;
        if (left <= 255) {
            out[test].jt = static_cast<uint8_t>(left);
        } else {
            // Too far for an 8-bit offset: jt falls to a ja, jf skips it.
            out.insert(out.begin() + static_cast<long>(test) + 1, BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0));
            for (size_t &p : to_pruned)
                if (p > test)
                    p++;
            out[test].jt = 0;
            out[test].jf = 1;
            out[test + 1].k = static_cast<uint32_t>(here() - (test + 2));
        }
        tree(ranges, mid, hi);
    }
};

// libseccomp's program reduced to the instructions that the arg-dependent
// (arch, number) pairs reach; a branch only one side of which they take
// becomes a ja.
std::vector<sock_filter> prune(const std::vector<sock_filter> &prog, const std::vector<bool> &reached,
                               const std::vector<uint8_t> &edges) {
    std::vector<size_t> new_pc(prog.size() + 1, 0);
    size_t n = 0;
    for (size_t i = 0; i < prog.size(); i++) {
        new_pc[i] = n;
        if (reached[i])
            n++;
    }
    new_pc[prog.size()] = n;
    std::vector<sock_filter> out;
    out.reserve(n);
    for (size_t i = 0; i < prog.size(); i++) {
        if (!reached[i])
            continue;
        sock_filter in = prog[i];
        size_t at = new_pc[i];
        if (BPF_CLASS(in.code) == BPF_JMP) {
            if (BPF_OP(in.code) == BPF_JA) {
                in.k = static_cast<uint32_t>(new_pc[i + 1 + in.k] - at - 1);
            } else if (edges[i] == 3) {
                in.jt = static_cast<uint8_t>(new_pc[i + 1 + in.jt] - at - 1);
                in.jf = static_cast<uint8_t>(new_pc[i + 1 + in.jf] - at - 1);
            } else {
                size_t target = i + 1 + (edges[i] == 1 ? in.jt : in.jf);
                in = BPF_JUMP(BPF_JMP | BPF_JA, static_cast<uint32_t>(new_pc[target] - at - 1), 0, 0);
            }
        }
        out.push_back(in);
    }
    return out;
}

// A plain cBPF interpreter for the instructions above.
uint32_t run_program(const std::vector<sock_filter> &prog, const seccomp_data &d) {
    const auto *words = reinterpret_cast<const uint32_t *>(&d);
    uint32_t a = 0;
    for (size_t pc = 0; pc < prog.size(); pc++) {
        const sock_filter &in = prog[pc];
        switch (BPF_CLASS(in.code)) {
        case BPF_LD:
            if (in.code != (BPF_LD | BPF_W | BPF_ABS) || in.k % 4 != 0 || in.k >= sizeof d)
                throw Unsupported{};
            a = words[in.k / 4];
            break;
        case BPF_ALU:
            if (BPF_SRC(in.code) != BPF_K)
                throw Unsupported{};
            a = alu(BPF_OP(in.code), a, in.k);
            break;
        case BPF_JMP:
            if (BPF_OP(in.code) == BPF_JA)
                pc += in.k;
            else if (BPF_SRC(in.code) != BPF_K)
                throw Unsupported{};
            else
                pc += jump_taken(BPF_OP(in.code), a, in.k) ? in.jt : in.jf;
            break;
        case BPF_RET:
            if (BPF_RVAL(in.code) != BPF_K)
                throw Unsupported{};
            return in.k;
        default: throw Unsupported{};
        }
    }
    throw Unsupported{};
}

// Both programs agree at every range edge, and where the arguments decide,
// for argument values taken from the program's constants.
void check_same(const std::vector<sock_filter> &a, const std::vector<sock_filter> &b,
                const std::vector<uint32_t> &archs, const std::vector<uint32_t> &points,
                const std::set<std::pair<uint32_t, uint32_t>> &dependent) {
    std::vector<uint64_t> values{0, 1, ~0ULL};
    for (const sock_filter &in : a)
        if (BPF_CLASS(in.code) == BPF_JMP && BPF_OP(in.code) != BPF_JA)
            values.push_back(in.k);
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    auto same = [&](const seccomp_data &d) {
        if (run_program(a, d) != run_program(b, d))
            throw Unsupported{};
    };
    for (uint32_t arch : archs) {
        seccomp_data d{};
        d.arch = arch;
        for (uint32_t point : points) {
            for (uint32_t nr : {point, point - 1}) {
                d.nr = static_cast<int>(nr);
                std::fill(std::begin(d.args), std::end(d.args), 0);
                same(d);
            }
            if (!dependent.count({arch, point}))
                continue;
            d.nr = static_cast<int>(point);
            for (uint64_t v : values) {
                for (auto &arg : d.args)
                    arg = v | (v << 32);
                same(d);
                std::fill(std::begin(d.args), std::end(d.args), v);
                same(d);
                for (size_t i = 0; i < 6; i++) {
                    std::fill(std::begin(d.args), std::end(d.args), 0);
                    d.args[i] = v;
                    same(d);
                }
            }
        }
    }
}

std::vector<sock_filter> compact(const std::vector<sock_filter> &prog) {
    const std::vector<uint32_t> points = breakpoints(prog);
    std::vector<uint32_t> archs = architectures(prog, points);
    const uint32_t other_value = other_arch(std::set<uint32_t>(archs.begin(), archs.end()));
    std::vector<ArchPlan> plans;
    for (uint32_t arch : archs)
        plans.push_back({arch, {}});

    std::vector<bool> reached(prog.size(), false);
    std::vector<uint8_t> edges(prog.size(), 0);
    std::set<std::pair<uint32_t, uint32_t>> dependent;
    Explorer plain{prog};
    Explorer marking{prog, &reached, &edges};
    for (ArchPlan &p : plans) {
        for (uint32_t point : points) {
            std::set<uint32_t> rets = plain.run(p.arch, point);
            if (rets.empty())
                throw Unsupported{};
            Range r{point, rets.size() > 1, *rets.begin()};
            if (r.depends) {
                marking.run(p.arch, point);
                dependent.insert({p.arch, point});
            }
            if (p.ranges.empty() || !p.ranges.back().same_leaf(r))
                p.ranges.push_back(r);
        }
    }
    // Any other architecture: one fixed outcome.
    std::set<uint32_t> other = plain.run(other_value, 0);
    if (other.size() != 1)
        throw Unsupported{};

    Emitter e;
    e.emit(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArchOffset));
    std::vector<size_t> to_block;
    for (size_t i = 0; i < plans.size(); i++) {
        e.emit(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, plans[i].arch, 0, 1));
        to_block.push_back(e.here());
        e.emit(BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0));
    }
    e.emit(BPF_STMT(BPF_RET | BPF_K, *other.begin()));
    for (size_t i = 0; i < plans.size(); i++) {
        e.out[to_block[i]].k = static_cast<uint32_t>(e.here() - to_block[i] - 1);
        e.emit(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kNrOffset));
        e.tree(plans[i].ranges, 0, plans[i].ranges.size() - 1);
    }
    if (!dependent.empty()) {
        size_t start = e.here();
        for (size_t p : e.to_pruned)
            e.out[p].k = static_cast<uint32_t>(start - p - 1);
        std::vector<sock_filter> rest = prune(prog, reached, edges);
        e.out.insert(e.out.end(), rest.begin(), rest.end());
    }
    if (e.out.size() >= prog.size() || e.out.size() > kMaxInstructions)
        throw Unsupported{};
    std::vector<uint32_t> checked = archs;
    checked.push_back(other_value);
    check_same(prog, e.out, checked, points, dependent);
    return e.out;
}

} // namespace

std::vector<sock_filter> compact_seccomp_program(const std::vector<sock_filter> &prog) {
    try {
        return compact(prog);
    } catch (const Unsupported &) {
        return prog;
    }
}

uint32_t run_seccomp_program(const std::vector<sock_filter> &prog, const seccomp_data &data) {
    try {
        return run_program(prog, data);
    } catch (const Unsupported &) {
        throw std::invalid_argument("seccomp program: unsupported instruction or no return");
    }
}

} // namespace crunpp::linux
