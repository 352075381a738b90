#!/usr/bin/env python3
"""The Python half of bench/capacity.sh (docs/capacity.md): response bodies of exact sizes,
the new-key load, the Redis samples, and the summary (JSON + markdown). Stdlib only.

  capacity.py bodies DIR SIZE...            write DIR/b<SIZE> (SIZE bytes, incompressible)
  capacity.py load --port P --path /b200 --count N --expect-bytes 200 --key-prefix K
  capacity.py median FILE                   median of the integers in FILE (one per line)
  capacity.py summarize --dir D             D/cases.jsonl -> D/capacity.json, D/report.md
"""
import argparse
import base64
import http.client
import json
import os
import statistics
import sys
import threading

AUTH = "Bearer capacity"
REQUEST_BODY = b'{"title":"capacity"}'


def cmd_bodies(args):
    os.makedirs(args.dir, exist_ok=True)
    for size in args.sizes:
        # Random bytes as base64: what a record holds is opaque to Redis, but a compressible
        # body would flatter an RDB file or a compressing proxy in front of it.
        text = base64.b64encode(os.urandom(size))[:size]
        with open(os.path.join(args.dir, "b%d" % size), "wb") as f:
            f.write(text)


def cmd_load(args):
    """N new keys over `threads` keep-alive connections; every answer must be 201 with a
    body of the expected size, or the run is void (exit 1)."""
    failures = []
    done = [0]
    lock = threading.Lock()

    def worker(tid, count):
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        for i in range(count):
            headers = {
                "Authorization": AUTH,
                "Content-Type": "application/json",
                "Idempotency-Key": "%s-%d-%d" % (args.key_prefix, tid, i),
            }
            conn.request("POST", args.path, body=REQUEST_BODY, headers=headers)
            res = conn.getresponse()
            body = res.read()
            if res.status != 201 or len(body) != args.expect_bytes:
                with lock:
                    failures.append("%d %d bytes" % (res.status, len(body)))
                return
            with lock:
                done[0] += 1

    threads = []
    per = [args.count // args.threads] * args.threads
    for i in range(args.count % args.threads):
        per[i] += 1
    for tid, count in enumerate(per):
        t = threading.Thread(target=worker, args=(tid, count))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    if failures:
        print("capacity.py load: %d failures, first: %s" % (len(failures), failures[0]),
              file=sys.stderr)
        sys.exit(1)
    print(done[0])


def cmd_median(args):
    with open(args.file) as f:
        values = [int(line) for line in f if line.strip().lstrip("-").isdigit()]
    if not values:
        print("capacity.py median: no values in %s" % args.file, file=sys.stderr)
        sys.exit(1)
    print(int(statistics.median(values)))


def fit(points):
    """Least-squares line bytes = fixed + per_byte * body over (body, bytes) points."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    n = len(points)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    per_byte = sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0
    return my - per_byte * mx, per_byte


def envelope(points):
    """The fitted slope with the intercept raised until no measured point lies above the
    line: what the constants use, so that a plan never counts fewer bytes than measured
    (the allocator's size classes put single points well above a least-squares line)."""
    _, per_byte = fit(points)
    return max(y - per_byte * x for x, y in points), per_byte


def cmd_summarize(args):
    with open(os.path.join(args.dir, "cases.jsonl")) as f:
        cases = [json.loads(line) for line in f if line.strip()]
    with open(os.path.join(args.dir, "meta.json")) as f:
        meta = json.load(f)
    for c in cases:
        n = c["records"]
        if c["store"] == "redis":
            c["used_memory_per_record"] = round((c["used_memory_after"] - c["used_memory_before"]) / n, 1)
            c["zset_per_record"] = round(c["zset_usage"] / c["zset_members"], 1) if c["zset_members"] else 0
        else:
            c["accounted_per_record"] = round((c["store_bytes_after"] - c["store_bytes_before"]) / n, 1)
            c["rss_per_record"] = round((c["rss_kib_after"] - c["rss_kib_before"]) * 1024 / n, 1)
    models = {}
    for store, enc in sorted({(c["store"], c["encryption"]) for c in cases}):
        sel = sorted((c for c in cases if c["store"] == store and c["encryption"] == enc),
                     key=lambda c: c["body"])
        key = "%s_encryption_%s" % (store, enc)
        if store == "redis":
            # used_memory's delta is the figure a maxmemory must hold: the keyspace and
            # expiry dictionaries, the allocator's size classes, the credential's set.
            points = [(c["body"], c["used_memory_per_record"]) for c in sel]
            total = envelope(points)
            usage = fit([(c["body"], c["memory_usage_median"]) for c in sel])
            models[key] = {"fixed": round(total[0], 1), "per_body_byte": round(total[1], 4),
                           "fit_fixed": round(fit(points)[0], 1),
                           "memory_usage_fixed": round(usage[0], 1),
                           "memory_usage_per_body_byte": round(usage[1], 4),
                           "zset_per_record": round(statistics.median(c["zset_per_record"] for c in sel), 1)}
        else:
            points = [(c["body"], c["accounted_per_record"]) for c in sel]
            acc = envelope(points)
            rss = fit([(c["body"], c["rss_per_record"]) for c in sel])
            models[key] = {"fixed": round(acc[0], 1), "per_body_byte": round(acc[1], 4),
                           "fit_fixed": round(fit(points)[0], 1),
                           "rss_fixed": round(rss[0], 1), "rss_per_body_byte": round(rss[1], 4)}
    out = {"meta": meta, "cases": cases, "models": models}
    with open(os.path.join(args.dir, "capacity.json"), "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    lines = ["# idemgate capacity measurement, %s (`%s`)" % (meta["date"], meta["commit"]), "",
             "%s; Redis %s (%s); %s. Generated by bench/capacity.sh." % (
                 meta["machine"], meta["redis_version"], meta["redis_allocator"], meta["command"]),
             "",
             "## Redis store: bytes per completed record", "",
             "| body | encryption | records | `MEMORY USAGE` median | `used_memory` Δ ÷ records "
             "| credential set per record | encoding |",
             "|---:|---|---:|---:|---:|---:|---|"]
    for c in cases:
        if c["store"] != "redis":
            continue
        lines.append("| %d B | %s | %d | %d | %.1f | %.1f | %s, set %s |" % (
            c["body"], c["encryption"], c["records"], c["memory_usage_median"],
            c["used_memory_per_record"], c["zset_per_record"], c["encoding"], c["zset_encoding"]))
    lines += ["", "## Memory store: bytes per completed record", "",
              "| body | records | `idemgate_store_bytes` Δ ÷ records | RSS Δ ÷ records |",
              "|---:|---:|---:|---:|"]
    for c in cases:
        if c["store"] != "memory":
            continue
        lines.append("| %d B | %d | %.1f | %.1f |" % (
            c["body"], c["records"], c["accounted_per_record"], c["rss_per_record"]))
    lines += ["", "## Bytes per record = fixed + per_body_byte × body", "",
              "per_body_byte is the least-squares slope; fixed is raised until no measured case "
              "lies above the line (the least-squares intercept in brackets). These two are what "
              "src/capacity/constants.cpp holds.", "",
              "| store | fixed B | per body byte | |", "|---|---:|---:|---|"]
    for key, m in models.items():
        if key.startswith("redis"):
            extra = "`MEMORY USAGE`: %.1f + %.4f × body; credential set %.1f B" % (
                m["memory_usage_fixed"], m["memory_usage_per_body_byte"], m["zset_per_record"])
        else:
            extra = "RSS: %.1f + %.4f × body" % (m["rss_fixed"], m["rss_per_body_byte"])
        lines.append("| %s | %.1f (%.1f) | %.4f | %s |" % (
            key, m["fixed"], m["fit_fixed"], m["per_body_byte"], extra))
    with open(os.path.join(args.dir, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bodies")
    b.add_argument("dir")
    b.add_argument("sizes", nargs="+", type=int)
    ld = sub.add_parser("load")
    ld.add_argument("--port", type=int, required=True)
    ld.add_argument("--path", required=True)
    ld.add_argument("--count", type=int, required=True)
    ld.add_argument("--expect-bytes", type=int, required=True)
    ld.add_argument("--key-prefix", required=True)
    ld.add_argument("--threads", type=int, default=8)
    m = sub.add_parser("median")
    m.add_argument("file")
    s = sub.add_parser("summarize")
    s.add_argument("--dir", required=True)
    args = p.parse_args()
    {"bodies": cmd_bodies, "load": cmd_load, "median": cmd_median,
     "summarize": cmd_summarize}[args.cmd](args)


if __name__ == "__main__":
    main()
