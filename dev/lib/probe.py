#!/usr/bin/env python3
"""Small stdlib-only probes used by dev/stack.

  probe.py port HOST PORT         exit 0 if something accepts TCP connections
  probe.py who PORT               print "pid N (command)" of the local listener
  probe.py http URL [KEY]         exit 0 if GET URL answers 2xx
  probe.py kafka HOST PORT        exit 0 if a Kafka Metadata request lists >= 1 broker
"""
import os
import socket
import struct
import sys
import urllib.request


def port_open(host, port, timeout=1.0):
    try:
        with socket.create_connection((host, int(port)), timeout):
            return True
    except OSError:
        return False


def listener_of(port):
    """Find the process listening on a TCP port by scanning /proc (no ss/lsof needed)."""
    port = int(port)
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    local, state, inode = parts[1], parts[3], parts[9]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        inodes.add("socket:[%s]" % inode)
        except OSError:
            pass
    if not inodes:
        return None
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            for fd in os.listdir("/proc/%s/fd" % pid):
                try:
                    if os.readlink("/proc/%s/fd/%s" % (pid, fd)) in inodes:
                        with open("/proc/%s/cmdline" % pid, "rb") as f:
                            cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
                        return "pid %s (%s)" % (pid, cmd[:120])
                except OSError:
                    continue
        except OSError:
            continue
    return "unknown process"


def http_ok(url, key=None, timeout=2.0):
    req = urllib.request.Request(url)
    if key:
        req.add_header("Authorization", "Bearer " + key)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return 200 <= resp.status < 300
    except Exception:
        return False


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise OSError("connection closed")
        buf += chunk
    return buf


def kafka_ready(host, port, timeout=2.0):
    """Send a Metadata v4 request (all topics, no auto-create); ready when >= 1 broker is listed."""
    client_id = b"cdc-stack-probe"
    req = struct.pack(">hhih", 3, 4, 7, len(client_id)) + client_id + struct.pack(">ib", -1, 0)
    try:
        with socket.create_connection((host, int(port)), timeout) as s:
            s.settimeout(timeout)
            s.sendall(struct.pack(">i", len(req)) + req)
            size = struct.unpack(">i", _recv_exact(s, 4))[0]
            data = _recv_exact(s, size)
    except OSError:
        return False
    if len(data) < 12:
        return False
    corr, _throttle, nbrokers = struct.unpack(">iii", data[:12])
    return corr == 7 and nbrokers >= 1


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[1]
    if cmd == "port":
        return 0 if port_open(argv[2], argv[3]) else 1
    if cmd == "who":
        who = listener_of(argv[2])
        if who:
            print(who)
            return 0
        return 1
    if cmd == "http":
        return 0 if http_ok(argv[2], argv[3] if len(argv) > 3 else None) else 1
    if cmd == "kafka":
        return 0 if kafka_ready(argv[2], argv[3]) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
