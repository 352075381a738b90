#!/usr/bin/env python3
"""Exact Redis cost per request of each idempotency proxy (bench/run.sh, docs/benchmarks.md).

For every target and load it sends N requests one after another on one keep-alive
connection while a MONITOR connection watches Redis, then tells the commands a client sent
from the commands a Lua script ran ("[0 lua]"), and counts the Redis connections opened in
that window (INFO stats total_connections_received). A target on a Redis Cluster
(--redis-ports NAME=P1,P2,...) is watched on every node at once, its figures summed.
Prints one JSON object. Stdlib only.
"""
import argparse
import http.client
import json
import socket
import urllib.parse

AUTH = "Bearer bench"
# The header each proxy adds to a replayed response (lower case, as http.client gives it).
REPLAY_HEADERS = ("chronapilot-idempotent-replay", "idempotent-replayed")


class Resp:
    """A minimal RESP2 client: enough for INFO, ECHO and reading a MONITOR stream."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def send(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b":"):
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b"$":
            n = int(rest)
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(65536)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode()
        raise RuntimeError("unexpected reply " + line.decode())

    def command(self, *args):
        self.send(*args)
        return self.reply()

    def close(self):
        self.sock.close()


def info_field(control, name):
    for line in control.command("INFO", "all").splitlines():
        if line.startswith(name + ":"):
            return int(line.split(":", 1)[1])
    raise KeyError(name)


def post(conn, path, body, key):
    headers = {"Authorization": AUTH, "Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    conn.request("POST" if body is not None else "GET", path, body=body, headers=headers)
    r = conn.getresponse()
    r.read()
    replayed = any(r.getheader(h) == "true" for h in REPLAY_HEADERS)
    return r.status, replayed


def classify(lines):
    """`1712345678.1 [0 127.0.0.1:5432] "EVALSHA" ...` -> commands sent, commands in scripts."""
    sent, in_scripts = {}, {}
    for line in lines:
        source = line[line.find("[") + 1:line.find("]")]
        name = line.split('"')[1].lower() if '"' in line else "?"
        bucket = in_scripts if source.endswith(" lua") else sent
        bucket[name] = bucket.get(name, 0) + 1
    return sent, in_scripts


def measure(redis_ports, url, load, body, n):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    nonce = socket.gethostname() + str(id(conn))
    key_of = {
        "new_key": lambda i: "chk-%s-%d" % (nonce, i),
        "replay": lambda i: "chk-rp-" + nonce,
        "passthrough": lambda i: None,
        "get": lambda i: None,
    }[load]
    req_body = None if load == "get" else body
    for i in range(-2, 0):  # warm-up (scripts loaded, replay key seeded), outside the window
        post(conn, u.path, req_body, key_of(i))
    controls = [Resp(p) for p in redis_ports]
    conns_before = sum(info_field(c, "total_connections_received") for c in controls)
    monitors = [Resp(p) for p in redis_ports]
    for monitor in monitors:
        if monitor.command("MONITOR") != "OK":
            raise RuntimeError("MONITOR refused")
    statuses, replays = {}, 0
    for i in range(n):
        status, replayed = post(conn, u.path, req_body, key_of(i))
        statuses[status] = statuses.get(status, 0) + 1
        replays += replayed
    marker = "end-of-window-" + nonce + load
    lines = []
    for control, monitor in zip(controls, monitors):
        control.command("ECHO", marker)
        while True:
            line = monitor._line().decode(errors="replace")
            if marker in line:
                break
            lines.append(line)
    # The MONITOR connections themselves are the connections opened in the window by us.
    opened = (sum(info_field(c, "total_connections_received") for c in controls)
              - conns_before - len(monitors))
    for r in monitors + controls:
        r.close()
    conn.close()
    sent, in_scripts = classify(lines)
    return {
        "requests": n, "statuses": statuses, "replayed": replays,
        "sent": sent, "sent_per_request": sum(sent.values()) / n,
        "in_scripts": in_scripts, "in_scripts_per_request": sum(in_scripts.values()) / n,
        "redis_connections_opened": opened,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--redis-port", type=int, required=True)
    ap.add_argument("--body", required=True, help="file with the request body")
    ap.add_argument("--target", action="append", required=True, help="name=url")
    ap.add_argument("--redis-ports", action="append", default=[],
                    help="name=port,port,...: that target's Redis is a cluster of these nodes")
    ap.add_argument("--requests", type=int, default=200)
    args = ap.parse_args()
    with open(args.body, "rb") as f:
        body = f.read()
    ports = {}
    for t in args.redis_ports:
        name, listed = t.split("=", 1)
        ports[name] = [int(p) for p in listed.split(",")]
    out = {}
    for t in args.target:
        name, url = t.split("=", 1)
        out[name] = {load: measure(ports.get(name, [args.redis_port]), url, load, body,
                                   args.requests)
                     for load in ("new_key", "replay", "passthrough", "get")}
    print(json.dumps(out, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
