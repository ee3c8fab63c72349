#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The images critest and crictl.bats pull, built here and served read-only.

No image registry is reachable from the test machines, so the images
critest 1.26 pulls by their public names (registry.k8s.io/...,
gcr.io/k8s-staging-cri-tools/...) are made from files of this machine and
served by a minimal registry (the read side of the distribution API: what
containerd's resolver and fetcher use); containerd reaches it through its
hosts.toml mirrors.

  cri_registry.py build DIR ROOTFS   # ROOTFS: the base layer's tree
  cri_registry.py serve DIR PORTFILE # 127.0.0.1, a free port written to PORTFILE
"""

import gzip
import hashlib
import http.server
import io
import json
import os
import sys
import tarfile

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

# name -> (extra files {path: (mode, bytes)}, config fields); a name with
# several tags is one image (one manifest).
WWW = {"www/index.html": (0o644, b"<html><body><h1>Welcome to nginx!</h1></body></html>\n")}
PASSWD_1000 = {
    "etc/passwd": (0o644, b"root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/sh\n"
                   b"user-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh\n"),
    "etc/group": (0o644, b"root:x:0:\nwww-data:x:33:\nusers:x:100:\nuser-defined-in-image:x:1000:\n"
                  b"group-defined-in-image:x:50000:user-defined-in-image\n"),
}


# busybox's httpd in the place of nginx and apache, started by a small
# "nginx" (cri_helpers.bash) with what critest checks of them: the pid file,
# a process named nginx with "master process" in its command line, apache's
# "httpd -D FOREGROUND" log line.
def web_server(port, log_line=None):
    cmd = ["/usr/sbin/nginx", str(port)] + ([log_line] if log_line else [])
    return {"Cmd": cmd, "ExposedPorts": {f"{port}/tcp": {}}}


def images(extra_bins):
    sh = {"Cmd": ["sh"]}
    web = dict(WWW, **{"usr/sbin/nginx": (0o755, extra_bins["nginx"])})
    gcr = "gcr.io/k8s-staging-cri-tools/"
    e2e = "registry.k8s.io/e2e-test-images/"
    out = [
        ([e2e + "busybox:1.29-2"], {}, sh),
        ([e2e + "nginx:1.14-2"], web, web_server(80)),
        ([e2e + "httpd:2.4.39-4"], web, web_server(80, "Command line: 'httpd -D FOREGROUND'")),
        ([gcr + "hostnet-nginx-amd64:latest"], web, web_server(12003)),
        ([e2e + "nonewprivs:1.3"], {"usr/local/bin/nnp": (0o4755, extra_bins["nnp"])},
         {"Entrypoint": ["/usr/local/bin/nnp"]}),
        (["registry.k8s.io/pause:3.6"], {"pause": (0o755, extra_bins["pause"])}, {"Entrypoint": ["/pause"]}),
        ([gcr + "test-image-predefined-group:latest"], PASSWD_1000, sh),
        ([gcr + "test-image-user-uid:latest"], {}, dict(sh, User="1002")),
        ([gcr + "test-image-user-username:latest"], {}, dict(sh, User="www-data")),
        ([gcr + "test-image-user-uid-group:latest"], {}, dict(sh, User="1003:users")),
        ([gcr + "test-image-user-username-group:latest"], {}, dict(sh, User="www-data:users")),
        ([gcr + "test-image-latest:latest"], {}, sh),
        ([gcr + "test-image-tag:test"], {}, sh),
        ([gcr + "test-image-tag:all"], {}, sh),
        ([gcr + "test-image-tags:1", gcr + "test-image-tags:2", gcr + "test-image-tags:3"], {}, sh),
    ]
    for n in (1, 2, 3):
        out.append(([gcr + f"test-image-{n}:latest"], {}, sh))
    return out


def tar_layer(add):
    """A reproducible gzip'd tar; returns (compressed, uncompressed digest)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        add(t)
    data = raw.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as g:
        g.write(data)
    return gz.getvalue(), "sha256:" + hashlib.sha256(data).hexdigest()


def norm(info):
    info.mtime = 0
    info.uname = info.gname = ""
    return info


def base_layer(rootfs):
    def add(t):
        # Hard links stay hard links (busybox's applets): tarfile records them.
        t.add(rootfs, arcname=".", filter=norm)
    return tar_layer(add)


def files_layer(files):
    def add(t):
        dirs = set()
        for path in sorted(files):
            parts = path.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(d)
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    t.addfile(norm(info))
            mode, data = files[path]
            info = tarfile.TarInfo(path)
            info.mode, info.size = mode, len(data)
            t.addfile(norm(info), io.BytesIO(data))
    return tar_layer(add)


def put_blob(out, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = os.path.join(out, "blobs", digest.split(":")[1])
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
    return {"digest": digest, "size": len(data)}


def build(out, rootfs):
    os.makedirs(os.path.join(out, "blobs"), exist_ok=True)
    bins = {}
    for name in ("nnp", "pause", "nginx"):
        with open(os.path.join(os.path.dirname(rootfs), name), "rb") as f:
            bins[name] = f.read()
    base, base_diff = base_layer(rootfs)
    base_desc = dict(put_blob(out, base), mediaType=LAYER)
    tags = {}
    for names, files, cfg in images(bins):
        layers, diffs = [base_desc], [base_diff]
        if files:
            data, diff = files_layer(files)
            layers.append(dict(put_blob(out, data), mediaType=LAYER))
            diffs.append(diff)
        # A label per image: no two names share an image ID by chance.
        cfg = dict(cfg, Labels=dict(cfg.get("Labels", {}), image=names[0]))
        config = {"architecture": "amd64", "os": "linux",
                  "config": dict({"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}, **cfg),
                  "rootfs": {"type": "layers", "diff_ids": diffs}}
        config_desc = dict(put_blob(out, json.dumps(config, sort_keys=True).encode()), mediaType=CONFIG)
        manifest = {"schemaVersion": 2, "mediaType": MANIFEST, "config": config_desc, "layers": layers}
        mdesc = put_blob(out, json.dumps(manifest, sort_keys=True).encode())
        for n in names:
            repo, tag = n.rsplit(":", 1)
            tags[repo.split("/", 1)[1] + ":" + tag] = mdesc["digest"]
    with open(os.path.join(out, "tags.json"), "w") as f:
        json.dump(tags, f, indent=1, sort_keys=True)


class Handler(http.server.BaseHTTPRequestHandler):
    root = ""
    tags = {}

    def log_message(self, fmt, *args):
        sys.stderr.write("registry: " + (fmt % args) + "\n")

    def send_blob(self, digest, ctype, body):
        path = os.path.join(self.root, "blobs", digest.split(":", 1)[-1])
        if not digest.startswith("sha256:") or "/" in digest or not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Docker-Content-Digest", digest)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def route(self, body):
        path = self.path.split("?", 1)[0]
        if path in ("/v2", "/v2/"):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path.startswith("/v2/") and "/manifests/" in path:
            repo, ref = path[4:].rsplit("/manifests/", 1)
            digest = ref if ref.startswith("sha256:") else self.tags.get(repo + ":" + ref)
            if digest is None:
                self.send_error(404)
                return
            self.send_blob(digest, MANIFEST, body)
            return
        if path.startswith("/v2/") and "/blobs/" in path:
            self.send_blob(path.rsplit("/blobs/", 1)[1], "application/octet-stream", body)
            return
        self.send_error(404)

    def do_GET(self):
        self.route(True)

    def do_HEAD(self):
        self.route(False)


def serve(root, portfile):
    with open(os.path.join(root, "tags.json")) as f:
        Handler.tags = json.load(f)
    Handler.root = root
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, portfile)
    server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "build":
        build(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
