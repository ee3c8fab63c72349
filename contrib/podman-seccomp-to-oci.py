#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""podman-seccomp-to-oci.py PROFILE CONFIG [--caps CAP,...]

Turns a seccomp profile in podman's extended format (the one of
/usr/share/containers/seccomp.json: archMap, includes/excludes by caps,
arches and minKernel) into the OCI linux.seccomp object that podman would
write into the bundle's config.json, and stores it in CONFIG (in place).

The rules podman applies: an entry is kept when every capability of
includes.caps is in the container's bounding set, the machine's
architecture is in includes.arches (when given) and the kernel is at least
includes.minKernel; it is dropped when excludes.caps has one of the
container's capabilities or excludes.arches the machine's architecture.
The capabilities are CONFIG's process.capabilities.bounding unless --caps
gives them. architectures: the native one and its sub-architectures.
"""
import json
import os
import platform
import sys

# podman's Go architecture names and the seccomp ones of the machine.
GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "ppc64le": "ppc64le", "s390x": "s390x",
           "riscv64": "riscv64", "i686": "386", "armv7l": "arm"}
SCMP_ARCH = {"x86_64": "SCMP_ARCH_X86_64", "aarch64": "SCMP_ARCH_AARCH64", "ppc64le": "SCMP_ARCH_PPC64LE",
             "s390x": "SCMP_ARCH_S390X", "riscv64": "SCMP_ARCH_RISCV64", "i686": "SCMP_ARCH_X86",
             "armv7l": "SCMP_ARCH_ARM"}


def kernel_version():
    release = os.uname().release.split("-")[0]
    parts = [int(p) if p.isdigit() else 0 for p in release.split(".")[:2]]
    return tuple(parts + [0] * (2 - len(parts)))


def wanted(entry, caps, go_arch, kernel):
    inc = entry.get("includes") or {}
    exc = entry.get("excludes") or {}
    if inc.get("caps") and not all(c in caps for c in inc["caps"]):
        return False
    if inc.get("arches") and go_arch not in inc["arches"]:
        return False
    if inc.get("minKernel"):
        want = tuple(int(x) for x in inc["minKernel"].split(".")[:2])
        if kernel < want:
            return False
    if exc.get("caps") and any(c in caps for c in exc["caps"]):
        return False
    if exc.get("arches") and go_arch in exc["arches"]:
        return False
    return True


def convert(profile, caps):
    machine = platform.machine()
    native = SCMP_ARCH.get(machine)
    if native is None:
        sys.exit("podman-seccomp-to-oci: unknown machine " + machine)
    out = {"defaultAction": profile["defaultAction"]}
    if profile.get("defaultErrnoRet") is not None:
        out["defaultErrnoRet"] = profile["defaultErrnoRet"]
    arches = []
    for m in profile.get("archMap") or []:
        if m["architecture"] == native:
            arches = [m["architecture"]] + (m.get("subArchitectures") or [])
    if arches:
        out["architectures"] = arches
    if profile.get("flags"):
        out["flags"] = profile["flags"]
    syscalls = []
    kernel = kernel_version()
    for e in profile.get("syscalls") or []:
        if not wanted(e, caps, GO_ARCH.get(machine), kernel):
            continue
        s = {"names": e["names"], "action": e["action"]}
        if e.get("errnoRet") is not None:
            s["errnoRet"] = e["errnoRet"]
        if e.get("args"):
            s["args"] = [{"index": a["index"], "value": a["value"], "valueTwo": a.get("valueTwo", 0),
                          "op": a["op"]} for a in e["args"]]
        syscalls.append(s)
    out["syscalls"] = syscalls
    return out


def main():
    args = sys.argv[1:]
    caps = None
    if "--caps" in args:
        i = args.index("--caps")
        caps = [c for c in args[i + 1].split(",") if c]
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    with open(args[0]) as f:
        profile = json.load(f)
    with open(args[1]) as f:
        config = json.load(f)
    if caps is None:
        caps = ((config.get("process") or {}).get("capabilities") or {}).get("bounding") or []
    config.setdefault("linux", {})["seccomp"] = convert(profile, caps)
    with open(args[1], "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
