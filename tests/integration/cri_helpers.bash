# SPDX-License-Identifier: GPL-2.0-or-later
# What cri.bats and crictl.bats need on top of helpers.bash and
# containerd_helpers.bash: a private containerd 1.6 with its CRI plugin, as a
# Kubernetes node runs it, with two runtime handlers: "runc" and "crunpp"
# (both containerd-shim-runc-v2, BinaryName runc or crunpp).
#
# Nothing reaches the host: containerd runs in its own mount, network and
# IPC namespaces (unshare -m -n -i). /run and /var/lib are fresh tmpfs there
# (the shims' sockets, the runtimes' state, the pods' netns files, CNI's
# cache); the network namespace has only lo, plus the CNI bridge cri0 and the
# pods' veths, on 10.233.77.0/24; critest's SysV segments (HostIpc specs) die
# with the IPC namespace. The images critest pulls by their public names are
# built from this machine's files (cri_registry.py, base: Debian's dynamic
# busybox with hard links, pgrep and ipcs) and served on 127.0.0.1 inside
# that namespace, reached through hosts.toml mirrors.
#
# Provides (after cri_start; cri_stop stops it)
#   $CRI_DIR $CRI_SOCK $CTD_PID   as containerd_helpers.bash
#   $CRITEST $CRICTL_BIN          the cri-tools 1.26.1 binaries, decompressed
#   in_cri CMD...                 CMD in containerd's mount, network and IPC namespaces
#   crictl ARGS...                bounded crictl there
#   cri_skip_reason               why the lane cannot run here (empty: it can)
#   cri_remove_pods               every pod (and container) removed
#   cri_stop                      the pods, the registry, containerd and its
#                                 namespaces gone (ctd_stop checks the rest)

# The cri-tools binaries: ../shared beside the source tree, as for the
# schema tests ($CRUNPP_SHARED_DIR or $CRI_TOOLS elsewhere).
CRI_TOOLS="${CRI_TOOLS:-${CRUNPP_SHARED_DIR:-$REPO_ROOT/../shared}/cri-tools-1.26.1}"
CRI_SUBNET=10.233.77.0/24
CRICTL_TIMEOUT=60

# Prints why the CRI tests cannot run on this machine, nothing when they can.
cri_skip_reason() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "containerd's CRI plugin needs root"
        return
    fi
    if [ ! -f "$CRI_TOOLS/critest.xz" ] || [ ! -f "$CRI_TOOLS/crictl.xz" ]; then
        echo "no critest/crictl 1.26.1 in $CRI_TOOLS (../shared/cri-tools-1.26.1 beside the source tree)"
        return
    fi
    local b
    for b in containerd containerd-shim-runc-v2 runc iptables ip xz python3 cc; do
        type -P "$b" >/dev/null || {
            echo "$b is missing (contrib/test.sh installs it)"
            return
        }
    done
    [ -x /usr/lib/cni/bridge ] || echo "no CNI plugins in /usr/lib/cni (apt-get install containernetworking-plugins)"
}

in_cri() {
    nsenter -t "$CTD_PID" -m -n -i -- "$@"
}

crictl() {
    timeout "$CRICTL_TIMEOUT" nsenter -t "$CTD_PID" -n -i -- \
        "$CRICTL_BIN" --config "$CRI_DIR/crictl.yaml" --runtime-endpoint "unix://$CRI_SOCK" \
        --image-endpoint "unix://$CRI_SOCK" --timeout 30s "$@"
}

# Copies BINARY and the libraries it links into the tree ROOT, at the paths
# the dynamic loader names.
_cri_copy_with_libs() {
    local root="$1" bin="$2" dest="$3" lib
    install -D -m 0755 "$bin" "$root/$dest"
    for lib in $(ldd "$bin" | grep -oE '/[^ ]+'); do
        [ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
    done
}

# The images, once per test run: Debian's dynamic busybox (busybox-static
# runs `ls` as a shell builtin: critest's MaskedPaths spec needs a real ls)
# with an applet per hard link, procps' pgrep and util-linux's ipcs (critest
# runs both in its containers), a setuid nnp printing its effective uid
# (nonewprivs image) and a pause binary.
_cri_build_images() {
    local dir
    dir="$(_crunpp_cache_dir)/cri"
    rm -rf "$dir"
    mkdir -p "$dir/deb" "$dir/image" "$dir/registry"
    # Stale package lists name a version the mirror no longer has: update once.
    (cd "$dir/deb" && { apt-get download -q busybox || { apt-get update -q && apt-get download -q busybox; }; }) \
        </dev/null >"$dir/apt.log" 2>&1 || {
        cat "$dir/apt.log" >&2
        return 1
    }
    dpkg-deb -x "$dir"/deb/busybox_*.deb "$dir/deb/x" || return 1
    local r="$dir/image/rootfs" applet
    mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,var/www,var/run}
    chmod 1777 "$r/tmp"
    chmod 0700 "$r/root"
    _cri_copy_with_libs "$r" "$dir/deb/x/bin/busybox" bin/busybox
    for applet in $("$r/bin/busybox" --list-full); do
        [ -e "$r/$applet" ] || ln "$r/bin/busybox" "$r/$applet"
    done
    _cri_copy_with_libs "$r" "$(type -P pgrep)" usr/bin/pgrep
    _cri_copy_with_libs "$r" "$(type -P ipcs)" usr/bin/ipcs
    cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
www-data:x:33:33:www-data:/var/www:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
    cat >"$r/etc/group" <<'EOF'
root:x:0:
www-data:x:33:
users:x:100:
nogroup:x:65534:
EOF
    cc -O2 -o "$dir/image/nnp" -x c - <<'EOF' || return 1
#include <stdio.h>
#include <unistd.h>
int main(void) { printf("Effective uid: %d\n", (int)geteuid()); return 0; }
EOF
    cc -O2 -o "$dir/image/pause" -x c - <<'EOF' || return 1
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
static void quit(int s) { (void)s; _exit(0); }
static void reap(int s) { (void)s; while (waitpid(-1, NULL, WNOHANG) > 0) {} }
int main(void) {
    signal(SIGINT, quit);
    signal(SIGTERM, quit);
    signal(SIGCHLD, reap);
    for (;;)
        pause();
}
EOF
    # nginx [PORT [LOG-LINE]]: runs itself again as "nginx: master process
    # nginx" (its comm stays nginx), writes the pid file, prints LOG-LINE,
    # runs busybox's httpd on PORT and exits on SIGTERM.
    cc -O2 -o "$dir/image/nginx" -x c - <<'EOF' || return 1
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
static pid_t child;
static void quit(int s) { (void)s; if (child > 0) kill(child, SIGTERM); _exit(0); }
int main(int argc, char **argv) {
    char *port = argc > 1 ? argv[1] : "80";
    if (strncmp(argv[0], "nginx:", 6) != 0) {
        char *again[] = {"nginx: master process nginx", port, argc > 2 ? argv[2] : NULL, NULL};
        execv("/usr/sbin/nginx", again);
        return 127;
    }
    FILE *f = fopen("/var/run/nginx.pid", "w");
    if (f) { fprintf(f, "%d\n", (int)getpid()); fclose(f); }
    if (argc > 2) { puts(argv[2]); fflush(stdout); }
    signal(SIGTERM, quit);
    signal(SIGINT, quit);
    child = fork();
    if (child == 0) {
        execl("/bin/busybox", "httpd", "-f", "-p", port, "-h", "/www", (char *)NULL);
        _exit(127);
    }
    int st = 0;
    while (waitpid(child, &st, 0) < 0) {}
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
EOF
    python3 "$BATS_TEST_DIRNAME/cri_registry.py" build "$dir/registry" "$r"
}

_cri_write_config() {
    local d="$CRI_DIR"
    mkdir -p "$d/cni" "$d/certs.d"
    cat >"$d/cni/10-crunpp-cri.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "crunpp-cri",
  "plugins": [
    {
      "type": "bridge", "bridge": "cri0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {"type": "host-local", "dataDir": "$d/ipam", "ranges": [[{"subnet": "$CRI_SUBNET"}]],
               "routes": [{"dst": "0.0.0.0/0"}]}
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
    cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = [
  "io.containerd.internal.v1.opt",
  "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
]

[grpc]
  address = "$CRI_SOCK"
[ttrpc]
  address = "$CRI_SOCK.ttrpc"
[debug]
  address = "$d/debug.sock"
[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.6"
  # Root lacks CAP_SYS_RESOURCE here; no AppArmor in the test machines.
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(type -P runc)"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crunpp]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crunpp.options]
        BinaryName = "$CRUNPP"
        Root = "/run/containerd/crunpp"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$d/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$d/certs.d"
EOF
}

# The mirrors: every registry critest names goes to the local one.
_cri_write_hosts() {
    local port="$1" reg
    for reg in registry.k8s.io gcr.io; do
        mkdir -p "$CRI_DIR/certs.d/$reg"
        cat >"$CRI_DIR/certs.d/$reg/hosts.toml" <<EOF
server = "https://$reg"

[host."http://127.0.0.1:$port"]
  capabilities = ["pull", "resolve"]
EOF
    done
}

# Starts containerd with its CRI plugin and the registry; sets and exports
# CRI_DIR CRI_SOCK CRITEST CRICTL_BIN and containerd_helpers.bash's CTD_*.
cri_start() {
    local images
    images="$(_crunpp_cache_dir)/cri"
    _once "$images.done" _cri_build_images || {
        echo "could not build the CRI test images (see above)" >&2
        return 1
    }
    CRI_DIR="$BATS_FILE_TMPDIR/cri"
    # Unix socket paths are limited to 107 bytes.
    if [ "${#CRI_DIR}" -gt 70 ]; then
        CRI_DIR="$(mktemp -d /tmp/crunpp-cri.XXXXXX)"
    fi
    CTD_DIR="$CRI_DIR"
    CRI_SOCK="$CRI_DIR/containerd.sock"
    # The CRI plugin's containerd namespace is always k8s.io, and so is the
    # cgroup parent of its pods here: CTD_NS is a name nothing uses, so that
    # ctd_stop leaves k8s.io alone (another run may use it); cri_stop removes
    # what this containerd made there.
    CTD_NS="crunpp-cri-$$-$RANDOM"
    CRI_CGROUP_PARENT_NEW=1
    [ -d /sys/fs/cgroup/memory/k8s.io ] || [ -d /sys/fs/cgroup/k8s.io ] && CRI_CGROUP_PARENT_NEW=0
    export CRI_CGROUP_PARENT_NEW
    mkdir -p "$CRI_DIR/bin"
    CRITEST="$CRI_DIR/bin/critest"
    CRICTL_BIN="$CRI_DIR/bin/crictl"
    xz -dc "$CRI_TOOLS/critest.xz" >"$CRITEST" && xz -dc "$CRI_TOOLS/crictl.xz" >"$CRICTL_BIN" || return 1
    chmod 0755 "$CRITEST" "$CRICTL_BIN"
    : >"$CRI_DIR/crictl.yaml"
    export CRI_DIR CRI_SOCK CRITEST CRICTL_BIN CTD_DIR CTD_NS
    _cri_write_config
    # The registry first (its port in the mirrors), then containerd in its
    # place; no bats fd (3) in the daemons, or bats waits for them.
    unshare -m -n -i --propagation private sh -c '
        set -e
        mount -t tmpfs -o mode=0755 tmpfs /run
        mount -t tmpfs -o mode=0755 tmpfs /var/lib
        # Shared within this namespace only: the rshared and rslave volumes
        # of critest propagate between it (run here) and its containers.
        mount --make-rshared /
        ip link set lo up
        python3 "$1" serve "$2" "$3/registry.port" 2>"$3/registry.log" &
        i=0
        while [ ! -s "$3/registry.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        echo "$!" >"$3/registry.pid"
        exec containerd --config "$3/config.toml"
        ' sh "$BATS_TEST_DIRNAME/cri_registry.py" "$images/registry" "$CRI_DIR" \
        </dev/null >"$CRI_DIR/containerd.log" 2>&1 3>&- &
    CTD_PID=$!
    export CTD_PID
    echo "$CTD_PID" >"$CRI_DIR/containerd.pid"
    local i
    for ((i = 0; i < 100; i++)); do
        [ -s "$CRI_DIR/registry.port" ] && break
        sleep 0.1
    done
    [ -s "$CRI_DIR/registry.port" ] || {
        echo "the registry did not start:" >&2
        cat "$CRI_DIR/registry.log" "$CRI_DIR/containerd.log" >&2
        return 1
    }
    _cri_write_hosts "$(cat "$CRI_DIR/registry.port")"
    for ((i = 0; i < 150; i++)); do
        _proc_alive "$CTD_PID" || break
        crictl info >/dev/null 2>&1 && break
        sleep 0.1
    done
    if ! crictl info >/dev/null 2>&1; then
        echo "containerd did not start; its log:" >&2
        tail -n 30 "$CRI_DIR/containerd.log" >&2
        return 1
    fi
    readlink "/proc/$CTD_PID/ns/mnt" >"$CRI_DIR/mntns"
}

# Stops and removes every pod (their containers with them).
cri_remove_pods() {
    [ -n "${CTD_PID:-}" ] && _proc_alive "$CTD_PID" || return 0
    local p
    for p in $(crictl pods -q 2>/dev/null); do
        crictl stopp "$p" >/dev/null 2>&1
        crictl rmp -f "$p" >/dev/null 2>&1
    done
    return 0
}

# The ids of every pod and container this containerd made.
cri_ids() {
    grep -oE 'returns (container|sandbox) id \\"[0-9a-f]{64}' "$CRI_DIR/containerd.log" 2>/dev/null |
        grep -oE '[0-9a-f]{64}' | sort -u
}

# The cgroups of those ids (the runtimes remove them with their container).
cri_cgroups_left() {
    local id d
    for id in $(cri_ids); do
        for d in /sys/fs/cgroup/*/k8s.io/"$id" /sys/fs/cgroup/k8s.io/"$id"; do
            [ -d "$d" ] && echo "$d"
        done
    done
    return 0
}

cri_stop() {
    cri_remove_pods
    local pid left d
    pid="$(cat "${CRI_DIR:-/nonexistent}/registry.pid" 2>/dev/null)"
    if [ -n "$pid" ] && _proc_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null
    fi
    [ -n "${CRI_DIR:-}" ] && left="$(cri_cgroups_left)"
    ctd_stop
    for d in $left; do
        [ -d "$d" ] || continue
        echo "cri_helpers.bash: removing cgroup $d left" >&2
        find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    if [ "${CRI_CGROUP_PARENT_NEW:-0}" = 1 ]; then
        for d in /sys/fs/cgroup/*/k8s.io /sys/fs/cgroup/k8s.io; do
            [ -d "$d" ] && rmdir "$d" 2>/dev/null
        done
    fi
    return 0
}
