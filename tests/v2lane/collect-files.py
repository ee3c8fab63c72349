#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Prints, one per line and relative to /, the host files the v2 lane's guest
needs: the files of the given Debian packages (programs and libraries, not
docs), the extra paths given with --path (a directory with its files), every
shared library they load (ldd) and those of the --libs-of programs (which are
packed elsewhere), every symlink target on the way, and every parent directory, parents
first, so that `cpio -o -H newc` run in / packs a self-contained tree.

Paths are canonical: a path through a symlinked directory (/lib -> usr/lib on
merged-/usr Debian) is stored under its real directory; the guest recreates
the top-level symlinks itself.

usage: collect-files.py [--path PATH | --libs-of PROGRAM]... PACKAGE...
"""
import os
import subprocess
import sys

# Parts of a package that no test reads: documentation, translations,
# completions, and the large parts of the Python standard library.
SKIP_PREFIXES = ("/usr/share/doc/", "/usr/share/man/", "/usr/share/info/",
                 "/usr/share/locale/", "/usr/share/lintian/",
                 "/usr/share/bash-completion/", "/usr/share/zsh/",
                 "/usr/share/bug/", "/usr/share/menu/")
SKIP_PARTS = ("/test/", "/tests/", "/idlelib/", "/tkinter/", "/lib2to3/",
              "/ensurepip/", "/pydoc_data/", "/turtledemo/", "/config-3",
              "/site-packages/", "/dist-packages/")

wanted = set()      # canonical absolute paths of files and symlinks
elf_files = []


def canonical(path):
    """The path with its directory part resolved, its last part kept."""
    head, tail = os.path.split(os.path.abspath(path))
    return os.path.join(os.path.realpath(head), tail)


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def add(path, walk=False):
    """Adds PATH; a directory only with WALK (a --path), its files then."""
    path = canonical(path)
    if path in wanted or path.startswith(SKIP_PREFIXES) or any(p in path for p in SKIP_PARTS):
        return
    if os.path.islink(path):
        wanted.add(path)
        add(os.path.join(os.path.dirname(path), os.readlink(path)))
    elif os.path.isfile(path):
        wanted.add(path)
        if is_elf(path):
            elf_files.append(path)
    elif os.path.isdir(path) and walk:
        for root, dirs, files in os.walk(path):
            for name in files:
                add(os.path.join(root, name))
            for name in dirs:
                if os.path.islink(os.path.join(root, name)):
                    add(os.path.join(root, name))


def package_files(package):
    out = subprocess.run(["dpkg-query", "-L", package], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"collect-files.py: package {package} is not installed")
    return [line for line in out.stdout.splitlines() if line.startswith("/")]


def shared_libraries(path):
    """What ldd lists for PATH (nothing for a static or non-program file)."""
    out = subprocess.run(["ldd", path], capture_output=True, text=True)
    libs = []
    for line in out.stdout.splitlines():
        for word in line.split():
            if word.startswith("/"):
                libs.append(word)
    return libs


def main(argv):
    args = list(argv)
    extra = []
    while len(args) >= 2 and args[0] in ("--path", "--libs-of"):
        if args[0] == "--path":
            extra.append(args[1])
        else:
            elf_files.append(os.path.abspath(args[1]))
        args = args[2:]
    for package in args:
        for path in package_files(package):
            if not os.path.isdir(path) or os.path.islink(path):
                add(path)
    for path in extra:
        add(path, walk=True)
    done = 0
    while done < len(elf_files):
        for lib in shared_libraries(elf_files[done]):
            add(lib)
        done += 1
    dirs = set()
    for path in wanted:
        parent = os.path.dirname(path)
        while parent != "/" and parent not in dirs:
            dirs.add(parent)
            parent = os.path.dirname(parent)
    for path in sorted(dirs | wanted):
        print(path[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
