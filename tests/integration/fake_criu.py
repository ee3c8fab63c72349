#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A stand-in for criu that claims a given version, so that crunpp's version
# gates can be tested where no such CRIU is installed (and where the real one
# cannot dump: this host's kernel fails `criu check`).
#   fake_criu.py VERSION --version   prints "Version: VERSION", as criu does
#   fake_criu.py VERSION swrk FD     answers crunpp's requests on the
#                                    SOCK_SEQPACKET socket FD (criu's RPC,
#                                    images/rpc.proto): VERSION with VERSION,
#                                    FEATURE_CHECK with no feature, anything
#                                    else with a failure
# VERSION is MAJOR.MINOR[.SUBLEVEL]. A test writes a wrapper named criu that
# execs this with its version (crunpp runs criu with `swrk 3`).
import socket
import sys

REQ_FEATURE_CHECK = 9
REQ_VERSION = 10


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_varint(number, value):
    return varint(number << 3) + varint(value)


def field_bytes(number, data):
    return varint(number << 3 | 2) + varint(len(data)) + data


def request_type(msg):
    # criu_req's first field is its type (field 1, a varint).
    if len(msg) < 2 or msg[0] != 0x08:
        return -1
    return msg[1]


def answer(kind, version):
    resp = field_varint(1, kind)  # criu_resp.type
    if kind == REQ_VERSION:
        parts = [int(p) for p in version.split(".")]
        v = field_varint(1, parts[0]) + field_varint(2, parts[1])
        if len(parts) > 2:
            v += field_varint(4, parts[2])
        return resp + field_varint(2, 1) + field_bytes(10, v)
    if kind == REQ_FEATURE_CHECK:
        features = field_varint(1, 0) + field_varint(2, 0)  # mem_track, lazy_pages
        return resp + field_varint(2, 1) + field_bytes(8, features)
    return resp + field_varint(2, 0) + field_varint(7, 95)  # cr_errno EOPNOTSUPP


def main():
    version, args = sys.argv[1], sys.argv[2:]
    if args == ["--version"]:
        print("Version: " + version)
        return 0
    if len(args) != 2 or args[0] != "swrk":
        return 1
    sock = socket.socket(fileno=int(args[1]))
    while True:
        msg = sock.recv(65536)
        if not msg:
            return 0
        sock.send(answer(request_type(msg), version))


if __name__ == "__main__":
    sys.exit(main())
