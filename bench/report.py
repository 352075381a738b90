#!/usr/bin/env python3
"""Figures of the idemgate benchmark (bench/run.sh, docs/benchmarks.md). Stdlib only.

  report.py record --out results.jsonl --mode M --round R --conns C --target T --load L --dir D
      one wrk run: D/wrk.txt plus the counters in D/before and D/after -> one JSON line
  report.py rss --out rss.json --samples FILE --wrk FILE --hwm KIB
      the RSS run: "upstream_requests rss_kib" samples -> RSS at 100k and at the end
  report.py summarize --dir OUT
      medians of the runs, ratios and the targets, as Markdown on stdout
"""
import argparse
import glob
import json
import math
import os
import re
import statistics
import sys

# Commands of the harness itself, never of a proxy under test.
HARNESS_COMMANDS = {"info", "flushall", "config|resetstat", "echo", "monitor"}


def wrk_result(path):
    text = open(path).read()
    m = re.search(r"^BENCH_RESULT (\{.*\})$", text, re.M)
    if not m:
        sys.exit("no BENCH_RESULT in %s:\n%s" % (path, text))
    r = json.loads(m.group(1))
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    return r


def nginx_counters(path):
    """(accepted connections, requests) of a stub_status page:
    "Active connections: 1 \nserver accepts handled requests\n 5 5 10 \n..." """
    fields = open(path).read().splitlines()[2].split()
    return int(fields[0]), int(fields[2])


def redis_info(path):
    commands, fields = {}, {}
    for line in open(path).read().splitlines():
        m = re.match(r"cmdstat_([^:]+):calls=(\d+)", line)
        if m:
            commands[m.group(1)] = int(m.group(2))
        elif ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            fields[k] = v.strip()
    return commands, fields


def redis_info_of(snapshot_dir, target):
    """Redis INFO of a snapshot for `target`: the standalone server's, or for the cluster-mode
    gateway the sum over the cluster nodes (commands, connections; the first node's other
    fields), and how many servers that is."""
    if target != "idemgate_cluster":
        return redis_info(snapshot_dir + "/redis_info") + (1,)
    paths = sorted(glob.glob(snapshot_dir + "/redis_info_cluster.*"))
    commands, fields = {}, {}
    for path in paths:
        c, f = redis_info(path)
        for k, v in c.items():
            commands[k] = commands.get(k, 0) + v
        for k in ("total_connections_received", "connected_clients"):
            fields[k] = str(int(fields.get(k, 0)) + int(f[k]))
        for k, v in f.items():
            fields.setdefault(k, v)
    return commands, fields, len(paths)


def metrics(path):
    out = {}
    if not os.path.exists(path):
        return out
    for line in open(path).read().splitlines():
        # Summed over the route label (one series per routes[] entry and "default").
        m = re.match(r'idemgate_requests_total\{outcome="(\w+)"(?:,route="[^"]*")?\} ([0-9.e+]+)',
                     line)
        if m:
            out[m.group(1)] = out.get(m.group(1), 0.0) + float(m.group(2))
    return out


def rss(path):
    return {k: int(v) for k, v in (l.split() for l in open(path) if len(l.split()) == 2)}


def cpu_us_per_request(before, after, requests):
    """CPU µs per request of every process in the cpu snapshot files."""
    b, e = rss(before), rss(after)
    tick_us = 1e6 / e.pop("ticks_per_second")
    return {k: (v - b[k]) * tick_us / max(requests, 1) for k, v in e.items()}


def record(a):
    wrk = wrk_result(os.path.join(a.dir, "wrk.txt"))
    b, e = (os.path.join(a.dir, x) for x in ("before", "after"))
    # Each stub_status read counts itself: the "after" read is one connection and one
    # request more.
    accepts_b, requests_b = nginx_counters(b + "/nginx_status")
    accepts_e, requests_e = nginx_counters(e + "/nginx_status")
    hits = requests_e - requests_b - 1
    cb, fb, _ = redis_info_of(b, a.target)
    ce, fe, servers = redis_info_of(e, a.target)
    commands = {k: v - cb.get(k, 0) for k, v in ce.items()
                if k not in HARNESS_COMMANDS and v != cb.get(k, 0)}
    gateway = a.target if a.target in GATEWAYS else "idemgate"
    mb, me = metrics(b + "/%s_metrics" % gateway), metrics(e + "/%s_metrics" % gateway)
    rec = {
        "mode": a.mode, "round": a.round, "conns": a.conns, "target": a.target,
        "load": a.load, "wrk": wrk, "upstream_hits": hits,
        "upstream_connections_opened": accepts_e - accepts_b - 1,
        "redis_commands": commands,
        # The "after" redis-cli is one connection more (on each server).
        "redis_connections_opened": int(fe["total_connections_received"])
        - int(fb["total_connections_received"]) - servers,
        "redis_connected_clients": int(fe["connected_clients"]) - servers,
        "idemgate_outcomes": {k: v - mb.get(k, 0) for k, v in me.items() if v != mb.get(k, 0)},
        "rss_kib": rss(e + "/rss"),
        "cpu_us_per_request": cpu_us_per_request(b + "/cpu", e + "/cpu", wrk["requests"]),
        # 1-minute load average after the run: the machine is shared and noisy.
        "loadavg": float(open(e + "/loadavg").read()),
    }
    with open(a.out, "a") as f:
        f.write(json.dumps(rec, sort_keys=True) + "\n")
    print("  %-9s %-11s c%-2d %9.0f req/s  p50 %5d us  p99 %6d us  hits/req %.3f  errors %s"
          % (a.target, a.load, a.conns, wrk["rps"], wrk["p50_us"], wrk["p99_us"],
             hits / max(wrk["requests"], 1), sum(wrk["errors"].values())), file=sys.stderr)


def rss_run(a):
    samples = [tuple(int(x) for x in l.split()) for l in open(a.samples) if l.strip()]
    first = next((s for s in samples if s[0] >= 100000), samples[-1])
    last = samples[-1]
    out = {"start_kib": samples[0][1], "at_100k": {"requests": first[0], "rss_kib": first[1]},
           "at_end": {"requests": last[0], "rss_kib": last[1]},
           "max_sampled_kib": max(s[1] for s in samples), "hwm_kib": int(a.hwm),
           "wrk": wrk_result(a.wrk)}
    json.dump(out, open(a.out, "w"), indent=1)


# The idemgate processes of a run, each with its own metrics, RSS and CPU in the snapshots.
GATEWAYS = ("idemgate", "idemgate_cluster", "idemgate_base", "idemgate_sealed")

LOAD_NAMES = {"passthrough": "passthrough POST (no key)", "get": "passthrough GET",
              "new_key": "new key", "replay": "replay"}
TARGET_NAMES = {"direct": "upstream direct", "idemgate": "idemgate", "peer_a": "Peer A (nginx)",
                "peer_b": "Peer B (Node)", "idemgate_cluster": "idemgate, Redis Cluster",
                "idemgate_base": "idemgate base (IDEMGATE_BASE_BIN)",
                "idemgate_sealed": "idemgate, encryption on"}
ORDER = [("direct", "passthrough"), ("idemgate", "get"), ("idemgate_base", "get"),
         ("peer_a", "get"), ("idemgate", "passthrough"), ("idemgate_base", "passthrough"),
         ("peer_a", "passthrough"), ("idemgate", "new_key"), ("idemgate_base", "new_key"),
         ("idemgate_sealed", "new_key"), ("idemgate_cluster", "new_key"), ("peer_a", "new_key"),
         ("peer_b", "new_key"), ("idemgate", "replay"), ("idemgate_base", "replay"),
         ("idemgate_sealed", "replay"), ("idemgate_cluster", "replay"), ("peer_a", "replay"),
         ("peer_b", "replay")]


def overlapping(check, target, load):
    """Commands per request the MONITOR check saw run inside scripts, when some command name
    is both sent and run inside scripts (e.g. SET: the plain claim, and inside the complete
    script) so that names cannot tell the two apart in INFO commandstats; else None."""
    c = check.get(target, {}).get(load)
    if not c or not set(c["sent"]) & set(c["in_scripts"]):
        return None
    return c["in_scripts_per_request"]


def medians(records, lua_names, check):
    """(mode, conns, target, load) -> median figures of its runs. Commands named in
    lua_names are the ones the MONITOR check saw run inside scripts."""
    groups = {}
    for r in records:
        groups.setdefault((r["mode"], r["conns"], r["target"], r["load"]), []).append(r)
    out = {}
    for key, rs in groups.items():
        med = lambda f: statistics.median(f(r) for r in rs)
        # The names this target ran inside scripts under this load when the check saw it
        # (a name another target sends, e.g. SET, is then still counted as sent here).
        c = check.get(key[2], {}).get(key[3])
        names = set(c["in_scripts"]) if c else lua_names
        inside = overlapping(check, key[2], key[3])
        reqs = lambda r: max(r["wrk"]["requests"], 1)
        out[key] = {
            "runs": len(rs), "rps_runs": [r["wrk"]["rps"] for r in rs],
            "rps_by_round": {r["round"]: r["wrk"]["rps"] for r in rs},
            "rps": med(lambda r: r["wrk"]["rps"]), "p50": med(lambda r: r["wrk"]["p50_us"]),
            "p99": med(lambda r: r["wrk"]["p99_us"]),
            "hits": med(lambda r: r["upstream_hits"] / reqs(r)),
            "sent": med(lambda r: sum(v for k, v in r["redis_commands"].items()
                                      if k not in names) / reqs(r))
            if inside is None else
            med(lambda r: sum(r["redis_commands"].values()) / reqs(r) - inside),
            "in_scripts": med(lambda r: sum(v for k, v in r["redis_commands"].items()
                                            if k in names) / reqs(r))
            if inside is None else inside,
            "conns_opened": max(r["redis_connections_opened"] for r in rs),
            "up_conns": max(r.get("upstream_connections_opened", 0) for r in rs),
            "errors": sum(sum(r["wrk"]["errors"].values()) for r in rs),
            "rss": med(lambda r: r["rss_kib"].get(r["target"], 0)) if key[2] != "direct" else 0,
            "cpu": med(lambda r: r["cpu_us_per_request"][r["target"]]),
            # The cluster-mode gateway's Redis is the cluster: its three nodes' CPU.
            "redis_cpu": med(lambda r: r["cpu_us_per_request"][
                "redis_cluster" if r["target"] == "idemgate_cluster" else "redis"]),
        }
    return out


def case_table(med, mode, conns):
    rows = ["| load | target | req/s (median) | req/s runs | p50 µs | p99 µs | CPU µs/req "
            "| Redis CPU µs/req | upstream hits/req | upstream conns opened | Redis cmds sent/req "
            "| run in scripts/req | Redis conns opened | errors | RSS MiB |",
            "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for target, load in ORDER:
        m = med.get((mode, conns, target, load))
        if not m:
            continue
        runs = ", ".join("%.0f" % x for x in m["rps_runs"])
        rows.append("| %s | %s | %.0f | %s | %d | %d | %.1f | %.1f | %.3f | %d | %.3f | %.2f "
                    "| %d | %d | %s |" % (
            LOAD_NAMES[load], TARGET_NAMES[target], m["rps"], runs, m["p50"], m["p99"],
            m["cpu"], m["redis_cpu"], m["hits"], m["up_conns"], m["sent"], m["in_scripts"], m["conns_opened"], m["errors"],
            "%.1f" % (m["rss"] / 1024) if m["rss"] else "–"))
    return "\n".join(rows)


def pair_table(med, mode, conns, new, base, loads, what):
    """Two gateways run in the same rounds: `new` ÷ `base` for each load, req/s (the ratio of
    the medians, and of each round's pair: the rounds interleave, so a round's pair shared
    the machine's mood), latency and CPU per request (user + sys, of the gateway and of
    Redis): on a shared machine the CPU figures are the steadier ones."""
    rows = ["| load | {0} req/s | {1} req/s | {0} ÷ {1} (medians) | per round | p50 µs {0} / {1} "
            "| CPU µs/req {0} / {1} | CPU ÷ | Redis CPU µs/req {0} / {1} |".format(*what),
            "|---|---:|---:|---:|---|---|---|---:|---|"]
    for load in loads:
        a, b = med.get((mode, conns, new, load)), med.get((mode, conns, base, load))
        if not a or not b:
            continue
        rounds = sorted(set(a["rps_by_round"]) & set(b["rps_by_round"]))
        per_round = ", ".join("%.2f" % (a["rps_by_round"][r] / b["rps_by_round"][r])
                              for r in rounds)
        rows.append("| %s | %.0f | %.0f | **%.2f** | %s | %d / %d | %.1f / %.1f | %.2f "
                    "| %.1f / %.1f |" % (
            LOAD_NAMES[load], a["rps"], b["rps"], a["rps"] / b["rps"], per_round or "–",
            a["p50"], b["p50"], a["cpu"], b["cpu"], a["cpu"] / b["cpu"] if b["cpu"] else 0,
            a["redis_cpu"], b["redis_cpu"]))
    return "\n".join(rows) if len(rows) > 2 else ""


def ratio(med, mode, conns, load, peer):
    a, b = med.get((mode, conns, "idemgate", load)), med.get((mode, conns, peer, load))
    return a["rps"] / b["rps"] if a and b else float("nan")


def targets(med, mode):
    """(what, measured, target, met) for the issue's targets in one mode."""
    out = []
    for load, peer, want in (("passthrough", "peer_a", 1.0), ("get", "peer_a", 1.0),
                             ("new_key", "peer_a", 0.7), ("new_key", "peer_b", 3.5),
                             ("replay", "peer_a", 1.3), ("replay", "peer_b", 2.5)):
        r = ratio(med, mode, 64, load, peer)
        out.append(("%s req/s idemgate ÷ %s (c64)" % (LOAD_NAMES[load], TARGET_NAMES[peer]),
                    "%.2f" % r, "≥ %.1f" % want, r >= want))
    def versus_standalone(variant, load, what, want):
        """The variant's req/s ÷ idemgate's (standalone, clear) at 64 connections."""
        a, b = med.get((mode, 64, variant, load)), med.get((mode, 64, "idemgate", load))
        if a and b:
            r = a["rps"] / b["rps"]
            out.append(("%s req/s idemgate %s (c64)" % (LOAD_NAMES[load], what),
                        "%.2f" % r, "≥ %s" % want, r >= float(want)))
        return a

    for load in ("new_key", "replay"):  # issue 12: cluster mode costs at most 10 %
        a = versus_standalone("idemgate_cluster", load, "on Redis Cluster ÷ standalone", "0.9")
        if a:
            want = 2 if load == "new_key" else 1
            out.append(("%s Redis commands sent/req, Redis Cluster (c64)" % LOAD_NAMES[load],
                        "%.3f" % a["sent"], "%d" % want, abs(a["sent"] - want) < 0.01))
    m = med.get((mode, 64, "idemgate", "new_key"))
    if m:  # issue 14: Redis's own work per new key
        out.append(("new key Redis CPU µs/req, standalone (c64)", "%.1f" % m["redis_cpu"],
                    "≤ 12", m["redis_cpu"] <= 12))
    for load in ("new_key", "replay"):  # issue 14: encryption on costs at most 5 %
        versus_standalone("idemgate_sealed", load, "encryption on ÷ off", "0.95")
    g = lambda t, l: med.get((mode, 1, t, l), {}).get("p50", float("nan"))
    for load, limit, wanted in (("new_key", 100, "≤ +100 µs"), ("replay", 0, "≤ 0 µs")):
        d = g("idemgate", load) - g("peer_a", load)
        shown = "–" if math.isnan(d) else "%+d µs" % d
        out.append(("%s p50 idemgate − Peer A (c1)" % LOAD_NAMES[load], shown,
                    wanted, d <= limit))
    return out


def cpu_table(med, mode, conns):
    """CPU per request of each proxy and the efficiency ratios: peer CPU ÷ idemgate CPU
    (above 1: idemgate spends less CPU per request than that peer)."""
    rows = ["| load | idemgate CPU µs/req | Peer A | Peer B | Peer A ÷ idemgate | Peer B ÷ idemgate |",
            "|---|---:|---:|---:|---:|---:|"]
    for load in ("passthrough", "get", "new_key", "replay"):
        c = {t: med.get((mode, conns, t, load), {}).get("cpu") for t in TARGET_NAMES}
        if not c["idemgate"]:
            continue
        f = lambda v: "%.1f" % v if v else "–"
        r = lambda v: "%.2f" % (v / c["idemgate"]) if v else "–"
        rows.append("| %s | %s | %s | %s | %s | %s |" % (
            LOAD_NAMES[load], f(c["idemgate"]), f(c["peer_a"]), f(c["peer_b"]),
            r(c["peer_a"]), r(c["peer_b"])))
    return "\n".join(rows)


def check_table(check):
    rows = ["| proxy | load | requests | statuses | replayed | commands sent / req | sent "
            "| run inside scripts / req | Redis conns opened |", "|---|---|---:|---|---:|---:|---|---:|---:|"]
    for target, loads in sorted(check.items()):
        for load, c in loads.items():
            sent = " ".join("%s=%d" % kv for kv in sorted(c["sent"].items())) or "–"
            rows.append("| %s | %s | %d | %s | %d | %.2f | %s | %.2f | %d |" % (
                TARGET_NAMES[target], LOAD_NAMES[load], c["requests"],
                " ".join("%s×%d" % kv for kv in sorted(c["statuses"].items())), c["replayed"],
                c["sent_per_request"], sent, c["in_scripts_per_request"],
                c["redis_connections_opened"]))
    return "\n".join(rows)


def summarize(a):
    records = [json.loads(l) for l in open(os.path.join(a.dir, "results.jsonl"))]
    check_path = os.path.join(a.dir, "redis_check.json")
    check = json.load(open(check_path)) if os.path.exists(check_path) else {}
    lua_names = {name for loads in check.values() for c in loads.values()
                 for name in c["in_scripts"]}
    med = medians(records, lua_names, check)
    out = ["# idemgate benchmark results", ""]
    if os.path.exists(os.path.join(a.dir, "versions.txt")):
        out += ["```", open(os.path.join(a.dir, "versions.txt")).read().rstrip(), "```", ""]
    for mode in sorted({r["mode"] for r in records}, key=lambda m: m != "unpinned"):
        for conns in (64, 1):
            out += ["## %s, %d connection%s" % (mode, conns, "s" if conns > 1 else ""), "",
                    case_table(med, mode, conns), ""]
        loads = sorted(r["loadavg"] for r in records if r["mode"] == mode and "loadavg" in r)
        if loads:
            out += ["1-minute load average after the runs of this mode: median %.1f (%.1f–%.1f)."
                    % (statistics.median(loads), loads[0], loads[-1]), ""]
        out += ["### CPU per request (%s, 64 connections)" % mode, "",
                cpu_table(med, mode, 64), ""]
        for new, base, loads, what, title in (
                ("idemgate", "idemgate_base", ("passthrough", "get", "new_key", "replay"),
                 ("new", "base"), "idemgate ÷ idemgate_base (IDEMGATE_BASE_BIN)"),
                ("idemgate_sealed", "idemgate", ("new_key", "replay"), ("on", "off"),
                 "encryption on ÷ off (idemgate_sealed ÷ idemgate)")):
            for conns in (64, 1):
                table = pair_table(med, mode, conns, new, base, loads, what)
                if table:
                    out += ["### %s (%s, %d connection%s)" % (
                        title, mode, conns, "s" if conns > 1 else ""), "", table, ""]
        out += ["### Targets (%s)" % mode, "", "| target | measured | wanted | met |",
                "|---|---:|---:|---|"]
        out += ["| %s | %s | %s | %s |" % (w, m, t, "yes" if ok else "**no**")
                for w, m, t, ok in targets(med, mode)]
        out.append("")
    if check:
        out += ["## Redis commands per request (MONITOR)", "", check_table(check), ""]
    path = os.path.join(a.dir, "rss.json")
    if os.path.exists(path):
        r = json.load(open(path))
        out += ["## idemgate RSS, new keys at 64 connections", "",
                "| at | upstream requests | RSS MiB |", "|---|---:|---:|",
                "| start | 0 | %.1f |" % (r["start_kib"] / 1024),
                "| ~100k | %d | %.1f |" % (r["at_100k"]["requests"], r["at_100k"]["rss_kib"] / 1024),
                "| end | %d | %.1f |" % (r["at_end"]["requests"], r["at_end"]["rss_kib"] / 1024),
                "| peak (VmHWM) | | %.1f |" % (r["hwm_kib"] / 1024), "",
                "wrk during the RSS run: %.0f req/s, p50 %d µs, p99 %d µs, errors %d" % (
                    r["wrk"]["rps"], r["wrk"]["p50_us"], r["wrk"]["p99_us"],
                    sum(r["wrk"]["errors"].values())), ""]
    print("\n".join(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("record")
    for name in ("out", "mode", "target", "load", "dir"):
        p.add_argument("--" + name, required=True)
    p.add_argument("--round", type=int, required=True)
    p.add_argument("--conns", type=int, required=True)
    p = sub.add_parser("rss")
    for name in ("out", "samples", "wrk", "hwm"):
        p.add_argument("--" + name, required=True)
    p = sub.add_parser("summarize")
    p.add_argument("--dir", required=True)
    a = ap.parse_args()
    {"record": record, "rss": rss_run, "summarize": summarize}[a.cmd](a)


if __name__ == "__main__":
    main()
