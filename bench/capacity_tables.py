#!/usr/bin/env python3
"""The tables of docs/capacity.md, from `idemgate capacity` (so from the measured inputs in
src/capacity/constants.cpp): run after updating them and paste the output over the tables.
  bench/capacity_tables.py [path/to/idemgate]   (default: build/idemgate)"""
import re
import subprocess
import sys

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/idemgate"
RATES = (10, 100, 1000, 10000)
BODIES = (("200 B", "200"), ("2 KiB", "2KiB"), ("32 KiB", "32KiB"))


def plan(*args):
    out = subprocess.run([BIN, "capacity", *args], check=True, capture_output=True,
                         text=True).stdout
    field = lambda name: re.search(r"^%s\s+(.*)$" % re.escape(name), out, re.M).group(1)
    return out, field


def memory_cell(rate, body, ttl):
    _, f = plan("--rate", str(rate), "--body", body, "--ttl", ttl)
    mem = f("Redis maxmemory").split(" (")[0]
    primaries = f("primaries").split(" ")[0]
    note = " (past the 1000-node bound)" if int(primaries.replace(",", "")) > 1000 else ""
    return "%s, %s%s" % (mem, primaries.replace(",", " "), note)


def num(n):
    return "{:,}".format(n).replace(",", " ")


print("| new keys/s | 1 h | 24 h | 7 d |\n|---:|---:|---:|---:|")
for r in RATES:
    print("| %s | %s | %s | %s |" % (num(r), num(r * 3600), num(r * 86400), num(r * 604800)))
print("\n**Redis `maxmemory` (all primaries) and primaries**, `ttl` 24 h:\n")
print("| new keys/s | body 200 B | body 2 KiB | body 32 KiB |\n|---:|---:|---:|---:|")
for r in RATES:
    print("| %s | %s |" % (num(r), " | ".join(memory_cell(r, b, "24h") for _, b in BODIES)))
print("\n`ttl` 1 h and 7 d:\n")
print("| new keys/s | 1 h: 200 B | 1 h: 2 KiB | 1 h: 32 KiB | 7 d: 200 B | 7 d: 2 KiB | "
      "7 d: 32 KiB |\n|---:|---:|---:|---:|---:|---:|---:|")
for r in RATES:
    cells = [memory_cell(r, b, t) for t in ("1h", "7d") for _, b in BODIES]
    print("| %s | %s |" % (num(r), " | ".join(cells)))
print("\n**Gateway and Redis CPU** (body 2 KiB; the body does not change the CPU figures):\n")
print("| new keys/s | gateway cores busy (planned at 70 %) | replicas of 2 cores | encryption on "
      "| Redis calls/s | Redis cores |\n|---:|---:|---:|---:|---:|---:|")
for r in (100, 1000, 10000, 50000, 100000):
    _, f = plan("--rate", str(r), "--body", "2KiB")
    _, g = plan("--rate", str(r), "--body", "2KiB", "--encryption", "on")
    cpu = lambda h: re.match(r"([\d.]+) cores busy, ([\d.]+)", h("gateway CPU")).groups()
    reps = lambda h: h("gateway replicas").split(" ")[0]
    (b, p), (eb, ep) = cpu(f), cpu(g)
    calls = f("Redis calls").split("/s")[0]
    print("| %s | %s (%s) | %s | %s (%s), %s | %s | %s |" % (
        num(r), b, p, reps(f), eb, ep, reps(g), calls.replace(",", " "),
        f("Redis CPU").split(" ")[0]))
_, f = plan("--rate", "1", "--body", "2KiB")
_, g = plan("--rate", "1", "--body", "2KiB", "--encryption", "on")
print("\none core at 70 %%: %s; with encryption: %s" % (f("one core at 70 %"),
                                                      g("one core at 70 %")))
