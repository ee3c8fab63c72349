// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the seccomp compiler: the input is a linux.seccomp
// object (placed in a minimal config.json and parsed as create parses it),
// compiled by libseccomp and compacted (compile.cpp, compact.cpp), never
// loaded. The compacted program must decide as libseccomp's does for the
// syscalls and argument values the profile names; the compiled-filter cache
// must read back what it wrote; the cache decoder must reject any other
// bytes (the input itself, as a tampered cache file) without crashing.
// After every input the fuzzer process must still be unfiltered: nothing
// here may reach seccomp(2).
#include <linux/audit.h>
#include <seccomp.h>
#include <sys/prctl.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "crunpp/error.hpp"
#include "crunpp/spec.hpp"
#include "fuzz.hpp"
#include "src/libcrunpp/linux/seccomp/seccomp.hpp"

namespace {

using crunpp::fuzz::check;

bool same(const std::vector<sock_filter> &a, const std::vector<sock_filter> &b) {
    return a.size() == b.size() && (a.empty() || memcmp(a.data(), b.data(), a.size() * sizeof a[0]) == 0);
}

// A few seccomp_data built from what the profile names, and a hash of the
// input for the rest (bounded: the fuzzer runs this a million times).
void compare_programs(const crunpp::spec::Seccomp &s, const std::vector<sock_filter> &raw,
                      const std::vector<sock_filter> &compact, uint64_t seed) {
    std::vector<int> numbers = {0, 1, 59, 435, 1023, 0x40000000, -1};
    std::vector<uint64_t> values = {0, 1, 0xffffffffULL, 0x100000000ULL, ~0ULL, seed};
    for (const auto &sc : s.syscalls) {
        for (const std::string &name : sc.names) {
            int nr = seccomp_syscall_resolve_name(name.c_str());
            if (nr >= 0 && numbers.size() < 24)
                numbers.push_back(nr);
        }
        for (const auto &a : sc.args)
            if (values.size() < 24)
                values.insert(values.end(), {a.value, a.value + 1, a.value - 1, a.valueTwo, a.value & a.valueTwo});
    }
    for (uint32_t arch : {uint32_t{AUDIT_ARCH_X86_64}, uint32_t{AUDIT_ARCH_I386}, uint32_t{AUDIT_ARCH_AARCH64}}) {
        for (int nr : numbers) {
            for (size_t v = 0; v < values.size(); v++) {
                seccomp_data d{};
                d.arch = arch;
                d.nr = nr;
                for (size_t a = 0; a < 6; a++)
                    d.args[a] = values[(v + a * (seed % 7 + 1)) % values.size()];
                check(crunpp::linux::run_seccomp_program(raw, d) == crunpp::linux::run_seccomp_program(compact, d),
                      "seccomp: the compacted program decides otherwise");
            }
        }
    }
}

} // namespace

int crunpp::fuzz::seccomp(const uint8_t *data, size_t size) {
    std::string_view text(reinterpret_cast<const char *>(data), size);
    uint64_t seed = 1469598103934665603ULL;
    for (unsigned char c : text)
        seed = (seed ^ c) * 1099511628211ULL;
    // The input as a cache entry that somebody else wrote.
    (void)linux::seccomp_cache_decode(text, "key");

    std::string config = R"({"ociVersion":"1.0.2","root":{"path":"rootfs"},"linux":{"seccomp":)";
    config.append(text).append("}}");
    try {
        spec::Config c = spec::parse_config(config);
        check(c.linux && c.linux->seccomp, "seccomp: parsed without linux.seccomp");
        const spec::Seccomp &s = *c.linux->seccomp;
        try {
            linux::check_known_syscalls(s);
        } catch (const Error &e) {
            check(e.what()[0] != '\0', "seccomp: an empty error");
        }
        std::vector<sock_filter> raw = linux::compile_seccomp(s, false);
        std::vector<sock_filter> compact = linux::compact_seccomp_program(raw);
        check(!raw.empty() && !compact.empty() && compact.size() <= raw.size(),
              "seccomp: the compacted program is longer");
        compare_programs(s, raw, compact, seed);
        std::string key = linux::seccomp_cache_key(s);
        auto back = linux::seccomp_cache_decode(linux::seccomp_cache_encode(key, compact), key);
        check(back && same(*back, compact), "seccomp: a cache entry does not read back");
        check(!linux::seccomp_cache_decode(linux::seccomp_cache_encode(key, compact), key + "x"),
              "seccomp: a cache entry read back under another key");
    } catch (const Error &e) {
        check(e.what()[0] != '\0', "seccomp: an empty error");
    }
    check(prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 0, "seccomp: a filter got installed in the fuzzer");
    return 0;
}

CRUNPP_FUZZ_TARGET(crunpp::fuzz::seccomp)
